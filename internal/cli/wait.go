package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/appnet/appnet-agent/internal/api"
	"github.com/appnet/appnet-agent/internal/env"
	"github.com/appnet/appnet-agent/internal/mgmtclient"
)

var waitUsage = usage{
	name:     "wait",
	synopsis: "[--timeout D] [--no-shutdown] [-- CMD [ARGS...]]",
	summary:  "wait until the agent reports Envoy ready; then run CMD and shut the agent down",
	details: `For the application's container: blocks until the running agent's /status says HEALTHY
(over its Unix socket or TCP port, found from the same variables as the agent's:
APPNET_AGENT_ADMIN_MODE, APPNET_AGENT_ADMIN_UDS_PATH, APPNET_AGENT_HTTP_PORT,
APPNET_AGENT_HTTP_BIND_ADDRESS). Without CMD it then exits 0. With CMD it runs it (stdin,
stdout, stderr and the environment passed on; SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1 and
SIGUSR2 forwarded to it), then asks the agent to shut down (POST /shutdown: it drains and
exits 0; --no-shutdown leaves it running) and exits with CMD's code (128+signal when a
signal ended it; 127 when CMD cannot be found, 126 when it cannot be run). Put -- before CMD
when CMD has flags of its own.
Exit codes of the wait itself: 69 when the agent does not report Envoy ready within --timeout
(the error says why: not reachable, or its last status) or APPNET_AGENT_ADMIN_MODE is unset;
1 for bad variables; 2 for bad flags; 128+signal when SIGTERM, SIGINT or SIGQUIT ends the
wait before CMD starts.`,
	examples: []string{
		"appnet-agent wait -- ./run-job --date today   # a Job: the agent drains and exits when the job is done",
		"appnet-agent wait --timeout 5m && ./serve       # only wait",
	},
}

// Exit codes of wait's own failures (the command's code is passed through otherwise).
const (
	exitUnavailable = 69 // EX_UNAVAILABLE: the agent did not report Envoy ready in time
	exitNotFound    = 127
	exitCannotRun   = 126
)

// Timings of wait: the poll period, each /status request's bound, and the bound of the
// shutdown request after the command.
const (
	waitPoll            = 250 * time.Millisecond
	waitRequestTimeout  = 2 * time.Second
	waitShutdownTimeout = 5 * time.Second
	defaultWaitTimeout  = 2 * time.Minute
)

// forwardedSignals are passed on to the command; the first three also end the wait before
// the command starts.
var forwardedSignals = []os.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2}

// cmdWait is `appnet-agent wait`: see waitUsage.
func cmdWait(args []string, stdout, stderr io.Writer) int {
	c := newCmdline(&waitUsage, stdout, stderr)
	timeout := c.fs.Duration("timeout", defaultWaitTimeout, "give up after `D` (Go duration, e.g. 90s, 5m; 0: wait forever)")
	noShutdown := c.fs.Bool("no-shutdown", false, "leave the agent running after CMD")
	command, code, ok := c.parse(args)
	if !ok {
		return code
	}
	if *timeout < 0 {
		return c.usageError("--timeout %s: want a duration of 0 or more", *timeout)
	}
	log := newLogger(stderr, "info").Named("wait")
	cfg, _, err := env.Load(os.LookupEnv, env.Options{})
	if err != nil {
		return fail(stderr, err)
	}
	client, err := mgmtclient.New(cfg)
	if err != nil {
		log.Error("cannot wait for the agent: " + err.Error() + " (set it as in the agent's container)")
		return exitUnavailable
	}
	defer client.Close()

	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, forwardedSignals...)
	defer signal.Stop(sigs)
	if code, ready := waitReady(client, *timeout, sigs, log); !ready {
		return code
	}
	if len(command) == 0 {
		return 0
	}
	code = runForwarding(command, sigs, stdout, stderr, log)
	if !*noShutdown {
		ctx, cancel := context.WithTimeout(context.Background(), waitShutdownTimeout)
		defer cancel()
		if err := api.RequestShutdown(ctx, client); err != nil {
			log.Warn("the command has ended, but the agent could not be asked to shut down", "at", client.Address(), "error", err)
		} else {
			log.Info("the command has ended; the agent is shutting down", "exit_code", code)
		}
	}
	return code
}

// waitReady polls the agent until /status says HEALTHY. It returns ready, or the exit code:
// exitUnavailable after timeout (0: none), 128+signal on SIGTERM, SIGINT or SIGQUIT.
func waitReady(client *mgmtclient.Client, timeout time.Duration, sigs <-chan os.Signal, log hclog.Logger) (code int, ready bool) {
	start := time.Now()
	var expired <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expired = t.C
	}
	tick := time.NewTicker(waitPoll)
	defer tick.Stop()
	var lastErr error
	for {
		err := api.CheckHealthy(context.Background(), client, waitRequestTimeout)
		if err == nil {
			log.Info("Envoy is ready: the agent reports HEALTHY", "after", time.Since(start).Round(time.Millisecond).String())
			return 0, true
		}
		if lastErr == nil || err.Error() != lastErr.Error() {
			log.Debug("Envoy is not ready yet", "error", err)
		}
		lastErr = err
		select {
		case <-expired:
			why := "its last status: " + lastErr.Error()
			if unreachable(lastErr) {
				why = lastErr.Error() + " (is the agent running, with the same APPNET_AGENT_* variables?)"
			}
			log.Error(fmt.Sprintf("the agent did not report Envoy ready within %s; %s", timeout, why))
			return exitUnavailable, false
		case sig := <-sigs:
			if s, ok := sig.(syscall.Signal); ok && (s == syscall.SIGTERM || s == syscall.SIGINT || s == syscall.SIGQUIT) {
				log.Info("stopped while waiting for the agent", "signal", s.String())
				return 128 + int(s), false
			}
		case <-tick.C:
		}
	}
}

// runForwarding runs command with this process's stdin and environment, passing on every
// signal in sigs until it exits, and returns its exit code as a shell would.
func runForwarding(command []string, sigs <-chan os.Signal, stdout, stderr io.Writer, log hclog.Logger) int {
	cmd := exec.Command(command[0], command[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, stderr
	if err := cmd.Start(); err != nil {
		log.Error("cannot run the command", "command", command[0], "error", err)
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
			return exitNotFound
		}
		return exitCannotRun
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case sig := <-sigs:
			if err := cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
				log.Warn("cannot forward the signal to the command", "signal", sig.String(), "error", err)
			}
		case <-done:
			ps := cmd.ProcessState
			if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				return 128 + int(ws.Signal())
			}
			return ps.ExitCode()
		}
	}
}

// unreachable reports whether err is a failure to reach the agent at all (no answer), rather
// than an answer that says Envoy is not ready.
func unreachable(err error) bool {
	var ce *mgmtclient.ConnError
	return errors.As(err, &ce)
}
