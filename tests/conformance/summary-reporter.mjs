// node --test reporter that writes {passed, failed, skipped} as JSON, for build.ps1's summed "Tests:" line.
export default async function* summary(source) {
  let passed = 0, failed = 0, skipped = 0;
  for await (const event of source) {
    if (event.type === "test:pass" && !event.data.details?.type) {
      if (event.data.skip || event.data.todo) skipped++; else passed++;
    } else if (event.type === "test:fail" && !event.data.details?.type) {
      failed++;
    }
  }
  yield JSON.stringify({ passed, failed, skipped });
}
