package agentrun

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/appnet/appnet-agent/internal/api"
	"github.com/appnet/appnet-agent/internal/bootfile"
	"github.com/appnet/appnet-agent/internal/dispatch"
	"github.com/appnet/appnet-agent/internal/logging"
	"github.com/appnet/appnet-agent/internal/startup"
	"github.com/appnet/appnet-agent/internal/supervise"
)

// SupervisorName is the long-lived binary's name; it is installed next to appnet-agent.
const SupervisorName = "appnet-agent-supervisor"

// handoffEnv names the descriptor that holds the State, in the supervisor's environment; it is
// removed from the environment before Envoy starts.
const handoffEnv = "APPNET_AGENT_HANDOFF_FD"

// handoffName is the name of the memory file that holds the State (/proc/self/fd/N reads
// "/memfd:appnet-agent-handoff"): Resume accepts no other descriptor, so a variable set by hand
// cannot make the supervisor skip rendering and validation.
const handoffName = "appnet-agent-handoff"

// FindSupervisor returns the path of appnet-agent-supervisor next to the running agent's own
// executable (dispatch.Siblings: named so, or, for an agent installed under its release name,
// appnet-agent-supervisor_VERSION_linux_ARCH). The error says where it looked.
func FindSupervisor() (string, error) {
	self, candidates, err := dispatch.Siblings(SupervisorName)
	if err != nil {
		return "", err
	}
	for _, path := range candidates {
		if st, err := os.Stat(path); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return path, nil
		}
	}
	return "", fmt.Errorf("no executable %s next to %s; the image and the release ship both", strings.Join(candidates, " or "), self)
}

// StartAndHandOver is run's second half when the supervisor is installed (at path): it binds
// the management API's listeners (a port in use exits 1 before Envoy starts), starts Envoy
// (supervise.Spawn), and only then execs the supervisor, handing it Envoy, the listeners and
// the State (Exec) — so neither the exec nor the supervisor's start delays Envoy's. It returns
// only when it did not exec: with Run's exit code, after supervising Envoy in this process.
//
// Envoy's parent-death signal is bound to the OS thread that forks it (golang/go#27505), and
// an exec ends every other thread: so this goroutine locks its thread, forks Envoy and execs
// from it. The lock is never released: if the exec fails, Run goes on in this goroutine,
// whose thread must live as long as Envoy.
func StartAndHandOver(path string, p Params) int {
	log := p.Log
	lns, err := api.Bind(p.Config, log)
	if err != nil {
		log.Error("cannot start the management API: " + err.Error())
		return 1
	}
	p.Listeners = lns
	select {
	case sig := <-p.Sigs:
		lns.Close()
		log.Info("Shutdown requested before Envoy started; exiting", "signal", sig.String())
		return 0
	default:
	}
	runtime.LockOSThread()
	sp, err := supervise.Spawn(supervise.Options{Argv: p.State.Argv, Logger: log, Reaper: p.Reaper})
	if sp != nil {
		p.Adopt = sp
	}
	if err != nil { // Envoy did not start: Run handles it as its first start's failure
		startup.Done()
		return Run(p)
	}
	return RunHere(p, handOver(path, p))
}

// RunHere is Run in this process, when the agent does not hand over to the supervisor: it says
// why (why), ends the start-up GC pause and runs Run.
func RunHere(p Params, why error) int {
	p.Log.Warn("Supervising Envoy in this process, which keeps the Envoy API's code in memory: " + why.Error())
	startup.Done() // the start-up GC pause ends here; a long-running agent must collect
	return Run(p)
}

// handOver execs the supervisor at path with p's State, Envoy and listeners; it returns only
// when it could not, with the error.
func handOver(path string, p Params) error {
	st := p.State
	env, err := p.Adopt.Handoff()
	if err != nil {
		return err
	}
	st.Envoy = &env
	if st.APIFD, st.ScrapeFD, err = p.Listeners.FDs(); err != nil {
		return err
	}
	p.Log.Debug("handing over to the supervisor", "path", path)
	err = Exec(path, os.Args, st, p.Sigs)
	api.CloseFDs(st.APIFD, st.ScrapeFD)
	return err
}

// Exec replaces this process with the supervisor at path, handing it st. It returns only when
// it did not exec, with the error. A shutdown signal that arrived before (in sigs) is handed
// over in st.Signal — Envoy runs, the supervisor drains it — and put back into sigs when the
// exec fails, for Run in this process.
//
// One that arrives from the exec until the supervisor subscribes during its package
// initialisation (internal/earlysignal), a few milliseconds, has its default action: the Go
// runtime unblocks SIGTERM, SIGINT and SIGQUIT and installs its handlers before any package is
// initialised, so neither blocking nor ignoring them across the exec carries them over
// (docs/DESIGN.md).
//
// argv is the supervisor's command line: the agent's own, so that ps and pgrep show the process
// as before (Resume names it after argv[0] too).
func Exec(path string, argv []string, st State, sigs chan os.Signal) error {
	taken := takeSignal(sigs, &st)
	err := execWith(path, argv, st)
	if taken != nil {
		sigs <- taken // for Run in this process
	}
	return err
}

// takeSignal takes a shutdown signal that arrived (if any) from sigs into st.Signal.
func takeSignal(sigs chan os.Signal, st *State) os.Signal {
	select {
	case sig := <-sigs:
		if s, ok := sig.(syscall.Signal); ok {
			st.Signal = int(s)
		}
		return sig
	default:
		return nil
	}
}

// execWith writes st into a memory file that stays open across the exec and execs path.
func execWith(path string, argv []string, st State) error {
	data, err := json.Marshal(st)
	if err != nil {
		return err
	}
	fd, err := unix.MemfdCreate(handoffName, 0) // no MFD_CLOEXEC: the supervisor reads it
	if err != nil {
		return fmt.Errorf("cannot hand over to %s: %w", SupervisorName, err)
	}
	defer unix.Close(fd)
	if _, err := unix.Write(fd, data); err != nil {
		return fmt.Errorf("cannot hand over to %s: %w", SupervisorName, err)
	}
	environ := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, handoffEnv+"=") })
	err = unix.Exec(path, argv, append(environ, handoffEnv+"="+strconv.Itoa(fd)))
	return fmt.Errorf("cannot exec %s: %w", path, err)
}

// readHandoff reads the State from the descriptor handoffEnv names, checks that it is the
// agent's memory file, closes it and removes the variable, so Envoy inherits neither.
func readHandoff() (State, error) {
	var st State
	v, ok := os.LookupEnv(handoffEnv)
	if !ok {
		return st, fmt.Errorf("%s is started by appnet-agent (run), which renders and validates the bootstrap first; run appnet-agent instead", SupervisorName)
	}
	_ = os.Unsetenv(handoffEnv)
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 3 {
		return st, fmt.Errorf("%s=%q: not a descriptor the agent handed over", handoffEnv, v)
	}
	if link, err := os.Readlink("/proc/self/fd/" + v); err != nil || !strings.HasPrefix(link, "/memfd:"+handoffName) {
		return st, fmt.Errorf("%s=%s: not the agent's hand-over (%s)", handoffEnv, v, link)
	}
	f := os.NewFile(uintptr(fd), handoffName)
	defer f.Close()
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return st, err
	}
	data, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return st, fmt.Errorf("the agent's hand-over: %w", err)
	}
	return st, nil
}

// Resume is appnet-agent-supervisor's main: it takes over from the agent that exec'd it (the
// State, the Envoy it started, the configuration from the same environment and flags, the log
// file, the files written for Envoy, the management API's listeners), becomes the orphan reaper
// again, and runs Run, which adopts that Envoy. The agent logged everything about the
// configuration, the bootstrap and Envoy's start already; Resume logs only its own failures.
func Resume(sigs chan os.Signal, stdout, stderr io.Writer) int {
	outStream, errStream := logging.NewStreams(stdout, stderr)
	nameProcess()
	st, err := readHandoff()
	if err == nil && st.Envoy == nil {
		err = fmt.Errorf("the agent's hand-over names no Envoy")
	}
	if err != nil {
		fmt.Fprintf(errStream, "error: %v\n", err)
		return 2
	}
	// First, before anything can fail: Envoy runs (or is a zombie to reap) and is this
	// process's child; Run watches it, and the reaper leaves it alone.
	adopted, err := supervise.TakeOverEnvoy(*st.Envoy)
	if err != nil {
		fmt.Fprintf(errStream, "error: %v\n", err)
		return 1
	}
	cfg, _, err := LoadConfig(st.ConfigPath, st.LogLevel, &st.ExistingFile)
	if err != nil { // the same environment the agent loaded without error
		fmt.Fprintf(errStream, "error: %v\n", err)
		return 1
	}
	p := Params{State: st, Config: cfg, Out: outStream, Err: errStream, Sigs: sigs, RedactConfigDump: RedactWith(st.AgentPath),
		Adopt: adopted}
	if p.LogFile, p.Log, err = OpenLog(cfg, errStream); err != nil {
		fmt.Fprintf(errStream, "error: %v\n", err)
		return 1
	}
	if p.LogFile != nil {
		defer p.LogFile.Close()
	}
	if p.Reaper = StartReaper(p.Log); p.Reaper != nil {
		defer p.Reaper.Stop()
	}
	if p.Output, err = bootfile.TakeOver(st.Output); err != nil {
		p.Log.Error(err.Error())
		return 1
	}
	if p.Listeners, err = api.ListenersFromFiles(cfg, st.APIFD, st.ScrapeFD); err != nil {
		p.Log.Error(err.Error())
		return 1
	}
	if st.Signal != 0 { // arrived after the agent started Envoy: drain it
		select {
		case sigs <- syscall.Signal(st.Signal):
		default:
		}
	}
	return Run(p)
}

// nameProcess gives the process the name of the command that started the agent (argv[0]),
// not the supervisor's file name, so that tools that look for it by name find it as before.
func nameProcess() {
	name := filepath.Base(os.Args[0])
	if name == SupervisorName || name == "." || name == "/" {
		return
	}
	if len(name) > 15 { // TASK_COMM_LEN less its terminating NUL
		name = name[:15]
	}
	// /proc/self/comm is the main thread's name, which ps and pgrep show, whichever thread this
	// goroutine runs on; PR_SET_NAME would name only the calling thread (main's goroutine need not
	// be on the main thread: earlysignal.ForRun may have blocked it). The prctl is the fallback
	// without /proc.
	if err := os.WriteFile("/proc/self/comm", []byte(name), 0); err != nil {
		_ = unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(unsafe.StringData(name+"\x00"))), 0, 0, 0)
	}
}
