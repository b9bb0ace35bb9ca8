# Shared by the fake-* plugins (FAKE: they exist only to make a real plugin misbehave on demand:
# hang, crash, fail on the Nth call, print garbage, be slow, leave a process holding stdout).
# Each reads its config once, takes its parameters from "fake*" keys and, when "fakeDelegate"
# names a real plugin, runs that plugin with the same environment and config, so addresses and
# interfaces are really allocated before the fault strikes.
FAKE_CONF=$(cat)

# fake_field NAME: the value of "NAME": "text" or "NAME": number in the config ("" if absent).
fake_field() {
  printf '%s' "$FAKE_CONF" | tr -d '\n' |
    sed -n "s/.*\"$1\"[[:space:]]*:[[:space:]]*\"\{0,1\}\([^\",}]*\).*/\1/p"
}

# fake_real: runs the real plugin named by fakeDelegate (found in CNI_PATH) and returns its status.
fake_real() {
  fake_d=$(fake_field fakeDelegate)
  if [ -z "$fake_d" ]; then
    [ "$CNI_COMMAND" = VERSION ] &&
      printf '{"cniVersion":"1.0.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]}\n'
    return 0
  fi
  fake_ifs=$IFS
  IFS=:
  for fake_dir in $CNI_PATH; do
    case "$fake_dir/$fake_d" in "$0") continue ;; esac
    if [ -x "$fake_dir/$fake_d" ]; then
      IFS=$fake_ifs
      printf '%s' "$FAKE_CONF" | "$fake_dir/$fake_d"
      return $?
    fi
  done
  IFS=$fake_ifs
  printf '{"code":7,"msg":"fake plugin: delegate %s not found in CNI_PATH"}\n' "$fake_d"
  return 1
}
