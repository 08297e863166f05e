// The closing line of `npm test`, from Vitest's JSON report: one plain line with the counts, for
// people and CI alike. A test file that failed as a whole (it did not load, or its set-up threw)
// is counted as a failed file, and the run as failed, even when none of its tests ran.
export function summary(report) {
  if (report === null) return 'tests: no report was written (the test run did not finish)';
  const { numPassedTests, numFailedTests, numPendingTests, numTodoTests, testResults } = report;
  const failedFiles = testResults.filter((file) => file.status === 'failed').length;
  return (
    `tests: ${numPassedTests} passed, ${numFailedTests} failed, ${numPendingTests + numTodoTests} skipped; ` +
    `files: ${testResults.length - failedFiles} passed, ${failedFiles} failed`
  );
}
