// Package supervise owns the Envoy child process: its command line, start, wait, restarts,
// signals, graceful drain and stop, orphan reaping and output piping (PRODUCT.md §4, R1–R4,
// R7; runtime-reference.md §1–2).
//
// main's order of calls:
//
//	sigs := supervise.NotifySignals()           // first instruction: no signal is ever missed
//	reaper, err := supervise.StartReaper(log)    // PID 1 or child subreaper; log err and go on
//	defer reaper.Stop()
//	... load config, render, open the log file ...
//	opts := supervise.OptionsFromConfig(cfg, bootstrapPath, supervise.Concurrency(cfg, "", log))
//	opts.Signals, opts.Reaper, opts.Admin, opts.Logger, opts.Stdout, opts.Stderr = ...
//	code := supervise.New(opts).Run(ctx)
//	os.Exit(code)
package supervise
