package supervise

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// proc is one Envoy process.
type proc struct {
	process *os.Process // from exec.Cmd.Start, or os.FindProcess for an adopted Envoy (TakeOverEnvoy)
	pid     int
	started time.Time
	done    chan struct{} // closed once Envoy is reaped; x and exited are then set
	x       exit
	exited  time.Time
	// oomBefore is the container's oom_kill count before Envoy started, when oomKnown.
	oomBefore uint64
	oomKnown  bool
}

// exit is how a process ended: code is its exit status, or 128+signal when killed.
type exit struct {
	code   int
	signal syscall.Signal // 0 unless killed by a signal
	reason string
	oom    bool // the kernel's OOM killer sent the signal (attributeOOM)
}

func exitOf(ps *os.ProcessState, err error) exit {
	if ps == nil {
		return exit{code: 1, reason: fmt.Sprintf("lost its exit status (%v)", err)}
	}
	ws, ok := ps.Sys().(syscall.WaitStatus)
	switch {
	case ok && ws.Signaled():
		reason := fmt.Sprintf("killed by signal %d (%s)", int(ws.Signal()), ws.Signal())
		if ws.CoreDump() {
			reason += ", core dumped"
		}
		return exit{code: 128 + int(ws.Signal()), signal: ws.Signal(), reason: reason}
	default:
		return exit{code: ps.ExitCode(), reason: fmt.Sprintf("exited with code %d", ps.ExitCode())}
	}
}

// startError is a failure to start Envoy at all.
type startError struct {
	path string
	err  error
}

func (e *startError) Error() string {
	return fmt.Sprintf("cannot start Envoy %s (APPNET_ENVOY_PATH): %v", e.path, e.err)
}

func (e *startError) Unwrap() error { return e.err }

// permanent reports whether retrying cannot help: the binary is missing, not executable or
// not a program. Resource shortages (EAGAIN, ENOMEM, ...) may pass.
func (e *startError) permanent() bool {
	for _, errno := range []error{syscall.ENOENT, syscall.EACCES, syscall.EPERM, syscall.ENOEXEC,
		syscall.ENOTDIR, syscall.EISDIR, syscall.ELOOP, syscall.ENAMETOOLONG, exec.ErrNotFound} {
		if errors.Is(e.err, errno) {
			return true
		}
	}
	return false
}

// exitCode follows the shell: 127 when the program is missing, 126 when it cannot run.
func (e *startError) exitCode() int {
	if errors.Is(e.err, fs.ErrNotExist) || errors.Is(e.err, exec.ErrNotFound) {
		return 127
	}
	return 126
}

// spawn starts Envoy with argv and returns once it has been executed (exec.Cmd.Start waits for
// the exec to succeed). Its output is piped line by line to the supervisor's writers.
func (s *Supervisor) spawn(argv []string) (*proc, error) {
	type startResult struct {
		p          *proc
		outR, errR *os.File
		err        error
	}
	started := make(chan startResult, 1)
	go func() {
		// The parent-death signal belongs to the thread that forked the child, not to the
		// process: if that OS thread ended (the Go runtime ends a thread whose locked
		// goroutine returns), Envoy would be killed. So this goroutine locks its thread from
		// before the fork until Envoy is reaped.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		p, outR, errR, err := s.start(argv)
		started <- startResult{p, outR, errR, err}
		if err == nil {
			s.watch(p)
		}
	}()
	r := <-started
	if r.err != nil {
		return nil, r.err
	}
	s.forward(r.outR, r.errR)
	return r.p, nil
}

// forward copies Envoy's output pipes to the supervisor's writers.
func (s *Supervisor) forward(outR, errR *os.File) {
	s.fwd.start(outR, s.opts.Stdout, "stdout")
	s.fwd.start(errR, s.opts.Stderr, "stderr")
}

// start forks and executes Envoy with argv on the calling goroutine's OS thread, which the
// caller has locked and keeps while Envoy runs (see spawn), and returns the read ends of its
// output pipes. Capabilities are per thread too, which is why NET_ADMIN is raised here.
func (s *Supervisor) start(argv []string) (p *proc, outR, errR *os.File, err error) {
	path := argv[0]
	if !strings.ContainsRune(path, '/') {
		// Like exec.Command: a bare name is looked up in PATH.
		lp, err := exec.LookPath(path)
		if err != nil {
			return nil, nil, nil, &startError{path: path, err: err}
		}
		path = lp
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, nil, nil, &startError{path: path, err: err}
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return nil, nil, nil, &startError{path: path, err: err}
	}
	cmd := &exec.Cmd{
		Path:   path,
		Args:   argv,
		Env:    s.opts.Env, // nil: the agent's environment at this moment
		Stdin:  s.opts.Stdin,
		Stdout: outW,
		Stderr: errW,
		SysProcAttr: &syscall.SysProcAttr{
			// R4: the kernel kills Envoy when the agent dies, even by SIGKILL.
			Pdeathsig: syscall.SIGKILL,
			// Envoy gets its own process group: a terminal's Ctrl-C or a kill of the agent's
			// group reaches only the agent, which drains Envoy first (R3) instead of Envoy
			// dying at once. Container runtimes signal PID 1 only, so nothing is lost, and
			// the group lets the agent kill whatever Envoy leaves behind.
			Setpgid: true,
		},
	}
	p = &proc{done: make(chan struct{})}
	p.oomBefore, p.oomKnown = s.oomCount()
	var restoreCaps func()
	if s.netAdmin {
		if restoreCaps, err = raiseAmbient(unix.CAP_NET_ADMIN); err != nil {
			s.capsOnce.Do(func() {
				s.log.Error("Error while modifying Agent's capabilities; Envoy will not be started with NET_ADMIN capability", "error", err)
			})
		}
	}
	err = s.opts.Reaper.startOwned(func() (int, error) {
		if err := cmd.Start(); err != nil {
			return 0, err
		}
		return cmd.Process.Pid, nil
	})
	if restoreCaps != nil {
		restoreCaps() // Envoy has exec'ed with them; other children of this thread should not
	}
	outW.Close() // Envoy has its copies; EOF comes when it (and its group) is gone
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		return nil, nil, nil, &startError{path: path, err: err}
	}
	p.process, p.pid, p.started = cmd.Process, cmd.Process.Pid, s.now()
	return p, outR, errR, nil
}

// watch waits for Envoy to exit, ends what it left behind, reaps it and closes p.done.
func (s *Supervisor) watch(p *proc) {
	// Wait until Envoy has exited but leave it unreaped: while its zombie holds the pid,
	// neither the pid nor Envoy's process group id can be reused, so killing the group hits
	// only what Envoy started (and did not move out of its group); what moved out is found
	// among the agent's children (strays.go). Nothing Envoy started outlives it.
	waitExitedNoReap(p.pid)
	_ = unix.Kill(-p.pid, unix.SIGKILL)
	// What left the group (setsid, setpgid) and was re-parented to the agent goes too.
	if n := s.opts.Reaper.killStrays(p.pid); n > 0 {
		s.log.Warn("Killed processes Envoy left behind outside its process group", "count", n)
	}
	ps, werr := p.process.Wait()
	p.exited = s.now()
	p.x = exitOf(ps, werr)
	s.opts.Reaper.release(p.pid)
	close(p.done)
}

// waitExitedNoReap blocks until pid has exited, without reaping it.
func waitExitedNoReap(pid int) {
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if err != unix.EINTR {
			return // exited, or an error that cmd.Wait will report
		}
	}
}

// signal sends sig to Envoy. os.Process uses a pidfd, so a reaped and recycled pid is never hit.
func (p *proc) signal(sig syscall.Signal) error {
	err := p.process.Signal(sig)
	if errors.Is(err, os.ErrProcessDone) {
		return nil
	}
	return err
}
