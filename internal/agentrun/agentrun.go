// Package agentrun is the long-lived half of `appnet-agent run`: everything after the bootstrap
// is validated and written — the Envoy admin client, the management API, the orphan reaper and
// the supervisor — until Envoy is gone for good or drained. It links nothing of the Envoy API
// (go-control-plane), so the process that lives as long as the task can be small (issue 19):
// appnet-agent renders and validates the bootstrap and starts Envoy, then execs
// appnet-agent-supervisor, which resumes here from the State it was handed, Envoy included
// (StartAndHandOver, Exec, Resume). Without that binary next to the agent, the agent runs the
// same Run itself.
package agentrun

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/appnet/appnet-agent/internal/api"
	"github.com/appnet/appnet-agent/internal/bootfile"
	"github.com/appnet/appnet-agent/internal/env"
	"github.com/appnet/appnet-agent/internal/envoyadmin"
	"github.com/appnet/appnet-agent/internal/lifecycle"
	"github.com/appnet/appnet-agent/internal/logfile"
	"github.com/appnet/appnet-agent/internal/logging"
	"github.com/appnet/appnet-agent/internal/supervise"
	"github.com/appnet/appnet-agent/internal/tasklife"
)

// State is what the rendering half of run decided and the long-lived half needs: all of it
// plain data, so it can cross an exec (Exec writes it as JSON).
type State struct {
	// Started is when the agent's process started (for "elapsed" figures and /status).
	Started time.Time `json:"started"`
	// ConfigPath and LogLevel are run's -envoyConfigPath and -logLevel flags, with which the
	// configuration is loaded again from the same environment (LoadConfig).
	ConfigPath string `json:"config_path,omitempty"`
	LogLevel   string `json:"log_level,omitempty"`
	// ExistingFile is whether ENVOY_CONFIG_FILE held a bootstrap that the agent used as is.
	ExistingFile bool `json:"existing_file,omitempty"`
	// Argv is Envoy's command line (supervise.Args) without the log level, which the
	// management API may change.
	Argv []string `json:"argv"`
	// Admin is where the validated bootstrap puts Envoy's admin API.
	Admin Admin `json:"admin"`
	// The counts /status and /metrics report about the bootstrap.
	BootstrapWarnings           int `json:"bootstrap_warnings"`
	BootstrapErrors             int `json:"bootstrap_errors"`
	BootstrapValidationWarnings int `json:"bootstrap_validation_warnings"`
	// Build is what appnet_agent_build_info reports (the version is linked into the agent).
	Build api.BuildInfo `json:"build"`
	// SnapshotPeriod is the stats snapshot period.
	SnapshotPeriod time.Duration `json:"snapshot_period"`
	// Output is the bootstrap and side files written for Envoy.
	Output bootfile.Handoff `json:"output"`
	// AgentPath is appnet-agent's executable, which the supervisor runs to redact Envoy's
	// config dump (RedactWith).
	AgentPath string `json:"agent_path"`

	// Set by StartAndHandOver for the supervisor: the Envoy it started, the duplicates of the
	// management API's listeners it bound (0: none), and the shutdown signal that arrived
	// after Envoy started and before the exec (0: none), which the supervisor acts on at once.
	Envoy    *supervise.EnvoyHandoff `json:"envoy,omitempty"`
	APIFD    int                     `json:"api_fd,omitempty"`
	ScrapeFD int                     `json:"scrape_fd,omitempty"`
	Signal   int                     `json:"signal,omitempty"`
}

// Admin is Envoy's admin API: a Unix socket path, or else a loopback TCP port.
type Admin struct {
	UDS  string `json:"uds,omitempty"`
	Port uint16 `json:"port,omitempty"`
}

func (a Admin) target() envoyadmin.Target {
	if a.UDS != "" {
		return envoyadmin.UDS(a.UDS)
	}
	return envoyadmin.TCP(a.Port)
}

// Params are Run's inputs: the State, and what the process made for itself.
type Params struct {
	State   State
	Config  *env.Config
	Log     hclog.Logger
	LogFile *logfile.Writer   // nil: Envoy's output goes to Out and Err
	Out     *logging.Stream   // stdout, counting what a gone reader lost
	Err     *logging.Stream   // stderr, likewise
	Sigs    chan os.Signal    // the shutdown signals (earlysignal.ForRun)
	Reaper  *supervise.Reaper // nil when the agent could not become a subreaper
	Output  *bootfile.Output
	// RedactConfigDump redacts Envoy's config dump for GET /envoy/config_dump (see
	// api.Options.RedactConfigDump).
	RedactConfigDump func(r io.Reader, w io.Writer) error
	// Adopt is the Envoy started already (supervise.Options.Adopt); nil: Run starts it.
	Adopt *supervise.Spawned
	// Listeners are the management API's listeners bound already (api.Options.Listeners).
	Listeners api.Listeners
}

// exitSoftware is the exit code when the supervisor itself fails (a bug): EX_SOFTWARE.
const exitSoftware = 70

// LoadConfig loads run's configuration from the environment, with the -envoyConfigPath and
// -logLevel flags over ENVOY_CONFIG_FILE and ENVOY_LOG_LEVEL. existing, when set, answers whether
// ENVOY_CONFIG_FILE held a bootstrap when the agent started (the supervisor loads the
// configuration again after the agent wrote it there, and must reach the same answer).
func LoadConfig(configPath, logLevel string, existing *bool) (*env.Config, []string, error) {
	src := env.Overlay(os.LookupEnv, map[string]string{"ENVOY_CONFIG_FILE": configPath, "ENVOY_LOG_LEVEL": logLevel})
	opts := env.Options{Names: env.EnvironNames()}
	if existing != nil {
		opts.FileHasContent = func(string) bool { return *existing }
	}
	return env.Load(src, opts)
}

// Run starts the Envoy admin client, the management service's listener (a port in use exits 1
// before Envoy starts), then every long-running part in one lifecycle group (the service's
// parts and the reaping), and the supervisor, which tells the service about every Envoy start
// and exit and takes Envoy's -l level from it; then the run loop. See cli's cmdRun for every
// way out and its exit code.
func Run(p Params) int {
	log, st := p.Log, p.State
	admin := envoyadmin.New(st.Admin.target())
	defer admin.Close()

	// The supervisor is made (not run) first, so that what asks for a shutdown (POST /shutdown,
	// the application exit watcher) has it from the start.
	var sup *supervise.Supervisor
	requestShutdown := func(cause string) bool { return sup.RequestShutdown(cause) }
	svc := api.New(api.Options{Config: p.Config, Admin: admin, Logger: log, AgentStarted: st.Started,
		SnapshotPeriod: st.SnapshotPeriod, Build: st.Build, BootstrapWarnings: st.BootstrapWarnings,
		BootstrapErrors: st.BootstrapErrors, BootstrapValidationWarnings: st.BootstrapValidationWarnings,
		RequestShutdown: requestShutdown, RedactConfigDump: p.RedactConfigDump, Listeners: p.Listeners,
		Outputs: []*logging.Stream{p.Out, p.Err}})
	if err := svc.Listen(); err != nil {
		log.Error("cannot start the management API: " + err.Error())
		return 1
	}
	defer svc.Stop()

	cfg := p.Config
	opts := supervise.Options{
		Argv:          st.Argv,
		LogLevel:      svc.EnvoyLogLevel,
		Signals:       p.Sigs,
		Admin:         admin,
		Reaper:        p.Reaper,
		Logger:        log,
		OnChange:      svc.EnvoyChanged,
		AgentStarted:  st.Started,
		RestartCount:  cfg.Agent.RestartCount,
		DrainWait:     cfg.Agent.DrainWait,
		MinDrain:      cfg.Agent.MinDrain,
		BeforeRestart: func() error { return restoreOutput(p.Output, log) },
		Adopt:         p.Adopt,
	}
	opts.Stdout, opts.Stderr = p.Out, p.Err
	if p.LogFile != nil {
		opts.Stdout, opts.Stderr = p.LogFile, p.LogFile
	}
	apps := taskApps(cfg, log)
	if apps != nil && cfg.Lifecycle.WaitForApp {
		opts.Apps, opts.AppExitWait = apps, cfg.Lifecycle.AppExitWait
	}
	sup = supervise.New(opts)

	// Every long-running part of the agent, in one list, kept by one group until the run loop
	// ends (it stops first: deferred last).
	parts := svc.Parts()
	if p.Reaper != nil {
		parts = append(parts, p.Reaper.Part())
	}
	if apps != nil && cfg.Lifecycle.ExitWithApp {
		parts = append(parts, apps.ExitWatcher(tasklife.DefaultPoll, func(cause string) { requestShutdown(cause) }, log))
	}
	group := lifecycle.Start(log, parts...)
	defer group.Stop()
	return runLoop(context.Background(), sup, log)
}

// runLoop runs the supervisor until it returns the agent's exit code; a panic in it (a bug)
// is logged with its stack and gives exitSoftware.
func runLoop(ctx context.Context, sup *supervise.Supervisor, log interface{ Error(string, ...any) }) int {
	code := exitSoftware
	if err := lifecycle.Safely(func() error { code = sup.Run(ctx); return nil }); err != nil {
		var pe *lifecycle.PanicError
		errors.As(err, &pe)
		log.Error("The Envoy supervisor panicked; the agent exits and Envoy with it. This is a bug; the stack:\n"+string(pe.Stack),
			"panic", fmt.Sprint(pe.Value), "exit_code", exitSoftware)
		return exitSoftware
	}
	return code
}

// restoreOutput puts back the bootstrap (and its side files) when they were removed or changed
// while Envoy ran, so the restart reads what was validated (issue 16, item 13).
func restoreOutput(out *bootfile.Output, log interface{ Warn(string, ...any) }) error {
	restored, err := out.Restore()
	for _, p := range restored {
		log.Warn("A file Envoy reads was removed or changed while Envoy ran; wrote it again from memory", "path", p)
	}
	return err
}

// taskApps are the task's application containers when the agent follows them (ECS task
// metadata, APPNET_WAIT_FOR_APP_EXIT or APPNET_EXIT_WHEN_APP_EXITS); nil otherwise, and then
// the shutdown is as without task metadata.
func taskApps(cfg *env.Config, log interface{ Info(string, ...any) }) *tasklife.Apps {
	base, ok := cfg.TaskMetadata()
	l := cfg.Lifecycle
	if !ok || (!l.WaitForApp && !l.ExitWithApp) {
		return nil
	}
	which := "every other container of type NORMAL"
	if len(l.AppContainers) > 0 {
		which = "APPNET_APP_CONTAINERS " + strings.Join(l.AppContainers, ",")
	}
	log.Info("Following the task's application containers (ECS task metadata)", "application", which,
		"wait_on_shutdown", l.WaitForApp, "exit_when_they_exit", l.ExitWithApp)
	return tasklife.New(base, l.AppContainers)
}

// OpenLog opens run's log file when the configuration names one (lines it cannot take go to
// stderr) and returns the logger that writes to it, or to stderr; the caller closes the file.
func OpenLog(cfg *env.Config, stderr io.Writer) (*logfile.Writer, hclog.Logger, error) {
	file, err := logfile.FromConfig(cfg.Logging)
	if err != nil {
		return nil, nil, err
	}
	out := stderr
	if file != nil {
		file.SetFallback(stderr)
		out = file
	}
	return file, logging.NewFormat(out, cfg.Agent.LogLevel, cfg.Logging.Format), nil
}

// StartReaper makes this process the orphan reaper (PID 1's role, or a child subreaper) before
// any child exists; nil, with one warning, when it cannot. The caller stops it.
func StartReaper(log hclog.Logger) *supervise.Reaper {
	reaper, err := supervise.NewReaper(log)
	if err != nil {
		log.Warn("orphaned processes will not be reaped", "error", err)
		return nil
	}
	return reaper
}
