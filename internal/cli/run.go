package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"

	"github.com/appnet/appnet-agent/internal/agentrun"
	"github.com/appnet/appnet-agent/internal/api"
	"github.com/appnet/appnet-agent/internal/dispatch"
	"github.com/appnet/appnet-agent/internal/env"
	"github.com/appnet/appnet-agent/internal/logging"
	"github.com/appnet/appnet-agent/internal/startup"
	"github.com/appnet/appnet-agent/internal/supervise"
)

// runFlags are the reference agent's flags; Go's flag package accepts -x and --x alike.
type runFlags struct {
	configPath, logLevel string
	readiness            bool
}

var runUsage = usage{
	synopsis: "[-envoyConfigPath PATH] [-logLevel LEVEL] [-envoyReadiness]",
	summary:  "run: render the bootstrap, start and supervise Envoy (no subcommand)",
	details: `Everything else comes from the environment (appnet-agent env lists the variables). The agent
renders and validates the bootstrap, starts Envoy, restarts it within APPNET_ENVOY_RESTART_COUNT,
serves the management API when APPNET_AGENT_ADMIN_MODE is set, and drains Envoy on SIGTERM.
With -envoyReadiness it only asks the running agent's /status until Envoy is HEALTHY (exit 0)
or APPNET_AGENT_POLL_ENVOY_READINESS_TIMEOUT_S passes (exit 1): a container health check.
Exit codes: docs/OPERATIONS.md, "Failure policy and exit codes".`,
	examples: []string{
		"APPMESH_RESOURCE_ARN=arn:aws:ecs:us-west-2:123456789012:task-set/c/web/ecs-svc/1 APPMESH_XDS_ENDPOINT=unix:///var/run/ecs/relay/envoy_xds.sock appnet-agent",
		"appnet-agent -envoyReadiness   # health check",
	},
}

// parseRunFlags parses run's flags; ok is false when run must return code (help, bad flags).
func parseRunFlags(args []string, stdout, stderr io.Writer) (f runFlags, code int, ok bool) {
	c := newCmdline(&runUsage, stdout, stderr)
	c.fs.StringVar(&f.configPath, "envoyConfigPath", "", "bootstrap `path` (overrides ENVOY_CONFIG_FILE)")
	c.fs.StringVar(&f.logLevel, "logLevel", "", "Envoy and agent log `level` (overrides ENVOY_LOG_LEVEL)")
	c.fs.BoolVar(&f.readiness, "envoyReadiness", false, "probe the agent's /status until Envoy is HEALTHY, then exit 0 (exit 1 on timeout)")
	operands, code, ok := c.parse(args)
	if !ok {
		return f, code, false
	}
	if len(operands) > 0 {
		return f, c.usageError("unknown command %q (commands: %s); the agent itself takes no arguments: "+
			"Envoy's command line is built from the environment", operands[0], commandNames()), false
	}
	return f, 0, true
}

// statsSnapshotPeriod overrides the stats snapshot period (api.DefaultSnapshotPeriod, 60 s).
// It is set only at link time, by end-to-end tests
// (-ldflags "-X github.com/appnet/appnet-agent/internal/cli.statsSnapshotPeriod=1s"), so they need not wait minutes for deltas; it
// is no configuration knob.
var statsSnapshotPeriod string

// cmdRun renders the bootstrap, then starts and supervises Envoy until it is gone for good or a
// shutdown signal has drained it. sigs were subscribed during package initialisation
// (internal/earlysignal).
//
// Order: flags and configuration; with -envoyReadiness, the probe alone (logs to stderr, no
// bootstrap, no log file); otherwise the log file, the orphan reaper (subreaper), the
// bootstrap; then, when appnet-agent-supervisor is installed next to the agent,
// agentrun.StartAndHandOver: the management API's listeners (so a port in use exits 1 before
// Envoy starts), Envoy's start, and the exec into the supervisor, which adopts that Envoy and
// goes on in agentrun.Run (in this process when the supervisor is missing or the exec fails):
// the Envoy admin client, the management service on those listeners, every long-running part in
// one lifecycle group (the service's parts and the reaping), and the supervisor, which tells the
// service about every Envoy start and exit and takes Envoy's -l level from it; then the run
// loop.
//
// Every way out, and its exit code:
//
//   - bad flags: 2; a bad variable, an invalid bootstrap, a user file or template that is
//     not a regular file (a FIFO cannot block the start), a template that runs past
//     APPNET_TEMPLATE_TIMEOUT_MS or renders too much, a symbolic link where the agent would
//     write a file (internal/safefile), a management API port that Envoy binds too (its
//     admin port, a static listener's), an unwritable bootstrap path or TMPDIR, an unusable
//     log directory, the management API's port in use or its socket path served by another
//     process or taken by another kind of file: 1, before Envoy starts, with one log line
//     naming the cause;
//   - a shutdown signal (SIGTERM, SIGINT, SIGQUIT) at any time before Envoy runs: 0, at
//     once, with one log line; a step still working (platform facts, templates, user files)
//     is cancelled and given at most stepGrace to remove what it made (issue 16, item 5);
//   - -envoyReadiness: 0 once the running agent's /status says HEALTHY, else 1;
//   - the supervisor returns (see supervise.Supervisor.Run for each case): its code, i.e.
//     Envoy's (128+signal when killed; 126/127 when it cannot start), or 0 after a clean
//     shutdown; never 0 for a failure;
//   - the supervisor panics (a bug): 70, after logging the panic with its stack; Envoy gets
//     SIGKILL from the kernel as the agent exits (parent-death signal).
//
// Nothing else ends the run. The management API server, the health poller, the stats
// snapshotter, the log-level resets and the orphan reaper (the one group's parts) are each
// restarted with back-off (250 ms doubling to 30 s) when they fail or panic, with one log line each time, for as long
// as the agent runs; Envoy keeps serving meanwhile. In particular, when the management API's
// listener dies (or its socket file is removed), /status is unavailable until it is bound
// again, which is retried. Envoy's output is copied on through a panic in the copy, a
// log file that refuses writes (full or read-only filesystem), cannot be rotated, or was
// removed and cannot be made again sends its lines to stderr, and a stdout or stderr that
// refuses them (its reader gone) drops and counts them (logging.Stream): SIGPIPE never ends
// the agent. A bootstrap removed or changed while Envoy runs is written again before the
// next restart (Options.BeforeRestart).
func cmdRun(args []string, sigs chan os.Signal, stdout, stderr io.Writer) int {
	started := time.Now()
	// From here on a write to a vanished reader is counted and reported, never fatal.
	outStream, errStream := logging.NewStreams(stdout, stderr)
	stdout, stderr = outStream, errStream
	flags, code, ok := parseRunFlags(args, stdout, stderr)
	if !ok {
		return code
	}
	cfg, warnings, err := agentrun.LoadConfig(flags.configPath, flags.logLevel, nil)
	if err != nil {
		if flags.logLevel != "" { // the value came from the flag, not the variable
			relabel(err, "ENVOY_LOG_LEVEL", "-logLevel (overrides ENVOY_LOG_LEVEL)")
		}
		if flags.configPath != "" {
			relabel(err, "ENVOY_CONFIG_FILE, ENVOY_CONFIG", "-envoyConfigPath (overrides ENVOY_CONFIG_FILE), ENVOY_CONFIG")
		}
		return failAs(stderr, err, os.Getenv("APPNET_LOG_FORMAT"))
	}
	if flags.readiness {
		// A probe must not touch the running agent's log file or bootstrap (the reference's did).
		startup.Done() // it may poll for minutes: collect as usual
		// No warnings: the running agent reported them at its start, and a probe that runs every
		// few seconds must not repeat them into the health checker's output.
		log := logging.NewFormat(stderr, cfg.Agent.LogLevel, cfg.Logging.Format)
		ctx, cancel := contextUntilSignal(sigs)
		defer cancel()
		return api.PollReadiness(ctx, cfg, log)
	}
	logFile, log, err := agentrun.OpenLog(cfg, stderr)
	if err != nil {
		return failAs(stderr, err, cfg.Logging.Format)
	}
	if logFile != nil {
		defer logFile.Close()
	}
	for _, w := range warnings {
		log.Warn(w)
	}
	// Become PID 1's or a child subreaper's reaper before any child exists (the reaping itself is
	// one of the long-running parts below); the readiness probe above starts no children and
	// must not become a subreaper.
	reaper := agentrun.StartReaper(log)
	if reaper != nil {
		defer reaper.Stop()
	}
	boot := &bootstrapStep{cfg: cfg, log: log}
	if sig, err := untilSignal(sigs, boot.run, boot.discard); sig != nil {
		log.Info("Shutdown requested before Envoy started; exiting", "signal", sig.String())
		return 0
	} else if err != nil {
		log.Error(err.Error())
		return 1
	}
	res, written := boot.res, boot.written
	path := written.Path
	log.Info("bootstrap ready", "path", path, "existing", res.Existing, "elapsed", time.Since(started).Round(time.Microsecond).String())

	st := agentrun.State{
		Started: started, ConfigPath: flags.configPath, LogLevel: flags.logLevel, ExistingFile: cfg.Mode.ExistingFile,
		Argv:              supervise.Args(cfg, path, supervise.Concurrency(cfg, res.Facts, log)),
		Admin:             adminTarget(res.Bootstrap.GetAdmin().GetAddress(), cfg.Admin.Port, log),
		BootstrapWarnings: len(warnings) + len(res.Warnings), BootstrapErrors: len(res.Problems.Errors()),
		BootstrapValidationWarnings: len(res.Problems.Warnings()),
		Build:                       buildInfo(), SnapshotPeriod: snapshotPeriod(log), Output: written.Handoff(),
		AgentPath: agentPath(),
	}
	p := agentrun.Params{State: st, Config: cfg, Log: log, Out: outStream, Err: errStream, Sigs: sigs,
		Reaper: reaper, Output: written, RedactConfigDump: redactConfigDump}
	if logFile != nil {
		p.LogFile = logFile
	}
	supervisor, err := agentrun.FindSupervisor()
	if err != nil {
		return agentrun.RunHere(p, err)
	}
	return agentrun.StartAndHandOver(supervisor, p)
}

// agentPath is the executable the supervisor runs to redact config dumps: this one, or in the
// lean build the full one, which redaction needs (its every descriptor) and to which the lean
// one would exec anyway; "" when unknown.
func agentPath() string {
	if dispatch.Lean {
		if full, err := dispatch.FullPath(); err == nil {
			return full
		}
	}
	p, err := os.Executable()
	if err != nil {
		return ""
	}
	return p
}

// relabel renames the variable of every *env.VarError in err named from.
func relabel(err error, from, to string) {
	var errs env.Errors
	if !errors.As(err, &errs) {
		return
	}
	for _, e := range errs {
		var ve *env.VarError
		if errors.As(e, &ve) && ve.Name == from {
			ve.Name = to
		}
	}
}

// adminTarget is where the validated bootstrap puts Envoy's admin API, so the agent always talks to
// the Envoy it configured (also for an existing ENVOY_CONFIG_FILE and in relay mode).
func adminTarget(a *corev3.Address, fallback uint16, log interface{ Warn(string, ...any) }) agentrun.Admin {
	if p := a.GetPipe(); p != nil {
		return agentrun.Admin{UDS: p.GetPath()}
	}
	if port := a.GetSocketAddress().GetPortValue(); port > 0 && port <= 65535 {
		return agentrun.Admin{Port: uint16(port)}
	}
	log.Warn("the bootstrap has no admin TCP port or pipe; health checks and draining use ENVOY_ADMIN_ACCESS_PORT", "port", fallback)
	return agentrun.Admin{Port: fallback}
}

// snapshotPeriod is statsSnapshotPeriod when a test linked one in, else the default.
func snapshotPeriod(log interface{ Warn(string, ...any) }) time.Duration {
	if statsSnapshotPeriod == "" {
		return api.DefaultSnapshotPeriod
	}
	d, err := time.ParseDuration(statsSnapshotPeriod)
	if err != nil || d <= 0 {
		log.Warn("ignoring the linked-in stats snapshot period", "value", statsSnapshotPeriod)
		return api.DefaultSnapshotPeriod
	}
	return d
}

// contextUntilSignal is cancelled by the first shutdown signal (or cancel).
func contextUntilSignal(sigs <-chan os.Signal) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(context.Background())
	go func() {
		select {
		case sig := <-sigs:
			cancel(fmt.Errorf("signal %v", sig))
		case <-ctx.Done():
		}
	}()
	return ctx, func() { cancel(context.Canceled) }
}
