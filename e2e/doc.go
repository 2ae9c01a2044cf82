// Package e2e holds the end-to-end tests of the appnet-agent binary (issue 3, "Done means"):
// each test builds nothing itself but runs the real agent, built once by TestMain together
// with envoy-standin (internal/envoystandin) as its Envoy, in a temp dir with its own
// loopback admin port, and reads what the stand-in recorded (STANDIN_RECORD: argv, signals,
// admin calls, exits) to check the command line, the restart policy, the graceful shutdown
// (R3), the parent-death signal and orphan reaping (R4), start-up failures and the log file
// (R7). Every process a test starts is killed in t.Cleanup.
//
// Run with `go test ./e2e/` (skipped with -short). Under -race the agent itself is built
// with the race detector too. The orphan-reaping test as PID 1 needs root and a working
// `unshare -fp --mount-proc`; it is skipped, saying why, when either is missing.
package e2e
