// Package e2e holds every black-box test of the appnet-agent binary: each test runs the real
// agent, built once by TestMain together with envoy-standin (internal/envoystandin) as its
// Envoy, in a temp dir with its own loopback admin port, and reads what the stand-in recorded
// (STANDIN_RECORD: argv, signals, admin calls, exits).
//
//   - One harness for all of them: harness_test.go starts and watches an agent run and reads
//     the record (record.Event, internal/testenv/record), harness_api_test.go talks to its
//     management API and runs the readiness probe, proc_test.go reads /proc. newAgent renders
//     from App Mesh variables; startAgent gives the agent a bootstrap file and the API.
//   - Supervision: the command line, the restart policy, the graceful shutdown (R3), the
//     parent-death signal and orphan reaping (R4), start-up failures, the log file (R7).
//   - The management API (api_*_test.go): /status, the stats filter and deltas,
//     /enableLogging, /drain_listeners, the readiness probe.
//   - Fault injection and abuse (faults_*_test.go, abuse_test.go): a misbehaving Envoy, host
//     or client ends in a defined state with the documented exit code.
//   - The offline commands: render --env-file/--facts, facts, golden.
//   - The container image (image_test.go): `make image`'s build, checked against the
//     Dockerfile and run as a container without a runtime (unshare, chroot); it needs umoci.
//
// Every process a test starts is killed in t.Cleanup. Run with `go test ./e2e/` (skipped with
// -short). Under -race the agent itself is built with the race detector too. Tests that need
// root, `unshare` (PID 1, private mount or network namespaces) or `setpriv` are skipped,
// saying why, when those are missing.
package e2e
