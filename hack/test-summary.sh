#!/usr/bin/env bash
# Prints one Surefire-style line summing every test report of the last build (unit and integration),
# then the classes with failures. Exits non-zero when any test failed or errored, or none ran.
cd "$(dirname "$0")/.." || exit 1
shopt -s nullglob
reports=(*/target/surefire-reports/TEST-*.xml */target/failsafe-reports/TEST-*.xml
         */*/target/surefire-reports/TEST-*.xml */*/target/failsafe-reports/TEST-*.xml)
tests=0; failures=0; errors=0; skipped=0; failed=()
for report in "${reports[@]}"; do
  header=$(grep -m1 -o '<testsuite [^>]*>' "$report")
  attr() { printf '%s' "$header" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*'; }
  t=$(attr tests); f=$(attr failures); e=$(attr errors); s=$(attr skipped)
  tests=$((tests + ${t:-0})); failures=$((failures + ${f:-0})); errors=$((errors + ${e:-0})); skipped=$((skipped + ${s:-0}))
  if [ "${f:-0}" -gt 0 ] || [ "${e:-0}" -gt 0 ]; then
    failed+=("$(basename "$report" .xml | sed 's/^TEST-//')")
  fi
done
echo
echo "[summary] Results of all modules (unit + integration):"
for name in "${failed[@]}"; do
  echo "[summary]   FAILED: $name"
done
echo "Tests run: $tests, Failures: $failures, Errors: $errors, Skipped: $skipped"
[ "$tests" -gt 0 ] && [ "$failures" -eq 0 ] && [ "$errors" -eq 0 ]
