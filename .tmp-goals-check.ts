import { readFileSync } from 'node:fs';
import { judgeGoals } from '/work/main/bench/report/goals.ts';
const r = JSON.parse(readFileSync(process.argv[2]!, 'utf8'));
for (const g of judgeGoals(r)) console.log(`${g.verdict.padEnd(12)} ${g.goal} :: ${g.figure}`);
