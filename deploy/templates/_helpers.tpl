{{/*
The objects of deploy/'s files matching a glob (sorted by path, as `kubectl apply -f DIR/` reads
them), each patched by "multinet.patch", as YAML documents.
*/}}
{{- define "multinet.render" -}}
{{- $root := .root -}}
{{- range $path, $_ := $root.Files.Glob .glob }}
{{- range $doc := regexSplit "(?m)^---[ \t]*$" ($root.Files.Get $path) -1 }}
{{- $obj := fromYaml $doc }}
{{- if hasKey $obj "Error" }}{{ fail (printf "%s: %s" $path $obj.Error) }}{{ end }}
{{- if $obj.kind }}
{{- include "multinet.patch" (dict "root" $root "obj" $obj "caBundle" $.caBundle) }}
---
# From: deploy/{{ $path }}
{{ toYaml $obj }}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/* The namespace of every namespaced object. */}}
{{- define "multinet.namespace" -}}
{{- .Values.namespace | default .Release.Namespace -}}
{{- end -}}

{{/*
Applies the values to one object of deploy/ in place: namespace, Helm's labels, images, the
DaemonSet's scheduling and resources, multinet's config, the webhook's policy and TLS.
*/}}
{{- define "multinet.patch" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
{{- $obj := .obj -}}
{{- $ns := include "multinet.namespace" $root -}}
{{- $meta := $obj.metadata -}}
{{- if hasKey $meta "namespace" }}{{ $_ := set $meta "namespace" $ns }}{{ end -}}
{{- $_ := set $meta "labels" (merge (dict "app.kubernetes.io/managed-by" $root.Release.Service "app.kubernetes.io/instance" $root.Release.Name) ($meta.labels | default dict)) -}}
{{- range $s := $obj.subjects | default list }}
{{- if hasKey $s "namespace" }}{{ $_ := set $s "namespace" $ns }}{{ end }}
{{- end -}}
{{- if has $obj.kind (list "DaemonSet" "Deployment") -}}
{{- $pod := $obj.spec.template.spec -}}
{{- $image := printf "%s:%s" $v.image.repository ($v.image.tag | default $root.Chart.AppVersion) -}}
{{- range $c := concat ($pod.initContainers | default list) $pod.containers }}
{{- $_ := set $c "image" $image }}
{{- if $v.image.pullPolicy }}{{ $_ := set $c "imagePullPolicy" $v.image.pullPolicy }}{{ end }}
{{- end -}}
{{- if eq $obj.kind "DaemonSet" -}}
{{- with $v.daemonset.nodeSelector }}{{ $_ := set $pod "nodeSelector" . }}{{ end -}}
{{- with $v.daemonset.tolerations }}{{ $_ := set $pod "tolerations" . }}{{ end -}}
{{- with $v.daemonset.resources }}{{ $_ := set (first $pod.containers) "resources" . }}{{ end -}}
{{- else -}}
{{- $_ := set $obj.spec "replicas" (int $v.webhook.replicas) -}}
{{- if eq $v.mode "thin" -}}
{{- /* docs/webhook.md, "Thin mode": the webhook reads the conflist's multinet plugin. */ -}}
{{- range $vol := $pod.volumes }}{{ if eq $vol.name "config" }}{{ $_ := set $vol "configMap" (dict "name" "multinet-thin-config") }}{{ end }}{{ end -}}
{{- $c := first $pod.containers -}}
{{- $args := list -}}
{{- range $a := $c.command }}{{ $args = append $args (ternary "/etc/multinet/00-multinet.conflist" $a (eq $a "/etc/multinet/daemon.json")) }}{{ end -}}
{{- $_ := set $c "command" $args -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if and (eq $obj.kind "ConfigMap") $v.config -}}
{{- if hasKey $obj.data "daemon.json" -}}
{{- $cfg := fromJson (index $obj.data "daemon.json") -}}
{{- $_ := set $obj.data "daemon.json" (printf "%s\n" (toPrettyJson (mergeOverwrite $cfg (deepCopy $v.config)))) -}}
{{- else if hasKey $obj.data "00-multinet.conflist" -}}
{{- $list := fromJson (index $obj.data "00-multinet.conflist") -}}
{{- range $p := $list.plugins }}{{ if eq $p.type "multinet" }}{{ $_ := mergeOverwrite $p (deepCopy $v.config) }}{{ end }}{{ end -}}
{{- $_ := set $obj.data "00-multinet.conflist" (printf "%s\n" (toPrettyJson $list)) -}}
{{- end -}}
{{- end -}}
{{- if eq $obj.kind "ValidatingWebhookConfiguration" -}}
{{- range $w := $obj.webhooks }}
{{- $_ := set $w "failurePolicy" $v.webhook.failurePolicy }}
{{- $_ := set $w "timeoutSeconds" (int $v.webhook.timeoutSeconds) }}
{{- $_ := set $w.clientConfig.service "namespace" $ns }}
{{- $_ := set $w.clientConfig "caBundle" $.caBundle }}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
The webhook's serving pair and CA, as JSON {crt, key, ca} (base64 PEM): the existing Secret's on
an upgrade (lookup; `helm template` has no cluster and always makes new ones), else new ones for
the Service's DNS names. multinet.yaml calls it once, so the Secret and the caBundle agree.
*/}}
{{- define "multinet.webhookTls" -}}
{{- $ns := include "multinet.namespace" . -}}
{{- $old := lookup "v1" "Secret" $ns "multinet-webhook-tls" -}}
{{- if and $old $old.data (hasKey $old.data "ca.crt") -}}
{{- toJson (dict "crt" (index $old.data "tls.crt") "key" (index $old.data "tls.key") "ca" (index $old.data "ca.crt")) -}}
{{- else -}}
{{- $svc := printf "multinet-webhook.%s.svc" $ns -}}
{{- $ca := genCA "multinet-webhook-ca" 3650 -}}
{{- $cert := genSignedCert $svc nil (list $svc (printf "%s.cluster.local" $svc)) 825 $ca -}}
{{- toJson (dict "crt" ($cert.Cert | b64enc) "key" ($cert.Key | b64enc) "ca" ($ca.Cert | b64enc)) -}}
{{- end -}}
{{- end -}}
