// Package supervise owns the Envoy child process: its command line, start, wait, restarts,
// signals, graceful drain and stop, orphan reaping and output piping (R1–R4 and R7 in
// docs/GLOSSARY.md; docs/OPERATIONS.md).
//
// The run command's order of calls (internal/cli/run.go):
//
//	sigs := earlysignal.ForRun()                // subscribed in package initialisation: no signal is missed
//	reaper, err := supervise.NewReaper(log) // PID 1 or child subreaper; log err and go on
//	defer reaper.Stop()
//	... load config, render, open the log file ...
//	parts := lifecycle.Start(log, reaper.Part(), ...) // with the other long-running parts
//	defer parts.Stop()
//	opts := supervise.Options{Argv: supervise.Args(cfg, bootstrapPath, concurrency), Signals: sigs, ...}
//	code := supervise.New(opts).Run(ctx)
//	return code
package supervise
