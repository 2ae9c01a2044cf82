package supervise

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Spawned is an Envoy started by Spawn before the Supervisor that will supervise it runs, for
// Options.Adopt: in the same process, or — through Handoff and TakeOverEnvoy — in the program
// that process execs (the pid stays, so Envoy stays its child). It may hold the failure to
// start Envoy instead, which the adopting Run handles as its own first start's.
type Spawned struct {
	p          *proc
	outR, errR *os.File
	err        error
}

// Pid is Envoy's process id (0 when it did not start).
func (sp *Spawned) Pid() int {
	if sp.p == nil {
		return 0
	}
	return sp.p.pid
}

// Err is why Envoy did not start, or nil.
func (sp *Spawned) Err() error { return sp.err }

// Spawn does Run's once-per-run preparation (open-files limit, inherited descriptors marked
// close-on-exec, NET_ADMIN) and its first start of Envoy with opts (Argv, LogLevel, Env,
// Stdin, Logger, CgroupRoot, Reaper are read), logging both as Run would. It forks on the
// calling goroutine's OS thread: the caller must have locked it (runtime.LockOSThread) and
// must keep it until Envoy is gone — or exec from it, which keeps the thread — because the
// kernel sends Envoy its parent-death signal (SIGKILL) when the forking thread ends, even
// while the process lives on (golang/go#27505). Output is left in the pipes until the adopting
// Supervisor forwards it. On a failure to start, the returned Spawned holds the error too.
func Spawn(opts Options) (*Spawned, error) {
	s := New(opts)
	if len(s.opts.Argv) == 0 || s.opts.Argv[0] == "" {
		return nil, errors.New("supervise: no Envoy command line")
	}
	s.prepare(false)
	argv := s.argv()
	s.log.Info("Executing command: [" + strings.Join(argv, " ") + "]")
	p, outR, errR, err := s.start(argv)
	if err != nil {
		s.log.Error(err.Error())
		return &Spawned{err: err}, err
	}
	s.log.Info("Envoy started", "pid", p.pid)
	return &Spawned{p: p, outR: outR, errR: errR}, nil
}

// EnvoyHandoff describes a Spawned Envoy to the program this process execs (TakeOverEnvoy):
// plain data, with the descriptors of its output pipes, which stay open across the exec.
type EnvoyHandoff struct {
	Pid      int       `json:"pid"`
	Started  time.Time `json:"started"`
	StdoutFD int       `json:"stdout_fd"`
	StderrFD int       `json:"stderr_fd"`
	// OOMBefore is the container's oom_kill count before Envoy started, when OOMKnown.
	OOMBefore uint64 `json:"oom_before"`
	OOMKnown  bool   `json:"oom_known"`
}

// Handoff describes sp for TakeOverEnvoy after an exec, and clears close-on-exec on its pipes'
// descriptors; call it right before the exec (every child started meanwhile inherits them).
func (sp *Spawned) Handoff() (EnvoyHandoff, error) {
	if sp.p == nil {
		return EnvoyHandoff{}, errors.New("supervise: no Envoy to hand over")
	}
	for _, f := range []*os.File{sp.outR, sp.errR} {
		if _, err := unix.FcntlInt(f.Fd(), unix.F_SETFD, 0); err != nil {
			return EnvoyHandoff{}, fmt.Errorf("keeping Envoy's output pipe open across the exec: %w", err)
		}
	}
	return EnvoyHandoff{Pid: sp.p.pid, Started: sp.p.started, StdoutFD: int(sp.outR.Fd()), StderrFD: int(sp.errR.Fd()),
		OOMBefore: sp.p.oomBefore, OOMKnown: sp.p.oomKnown}, nil
}

// TakeOverEnvoy makes the Spawned that h describes, in the program the spawning process
// exec'ed: Envoy is still its child (running, or a zombie nobody reaped: it is not reaped
// before Options.Adopt's Supervisor watches it, and Options.Reaper leaves it alone).
func TakeOverEnvoy(h EnvoyHandoff) (*Spawned, error) {
	if h.Pid <= 1 {
		return nil, fmt.Errorf("supervise: no Envoy pid in the hand-over (%d)", h.Pid)
	}
	files := make([]*os.File, 2)
	for i, fd := range []int{h.StdoutFD, h.StderrFD} {
		var st unix.Stat_t
		if fd < 3 || unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
			return nil, fmt.Errorf("supervise: descriptor %d of the hand-over is not Envoy's output pipe", fd)
		}
		unix.CloseOnExec(fd) // restarted Envoys must not inherit it
		files[i] = os.NewFile(uintptr(fd), []string{"envoy-stdout", "envoy-stderr"}[i])
	}
	// On Linux os.FindProcess holds a pidfd: signals and Wait reach this Envoy only. A zombie
	// (Envoy exited during the exec) still has its pid, so this succeeds and Wait reaps it.
	process, err := os.FindProcess(h.Pid)
	if err != nil {
		return nil, fmt.Errorf("supervise: Envoy (pid %d) of the hand-over: %w", h.Pid, err)
	}
	p := &proc{process: process, pid: h.Pid, started: h.Started, done: make(chan struct{}),
		oomBefore: h.OOMBefore, oomKnown: h.OOMKnown}
	return &Spawned{p: p, outR: files[0], errR: files[1]}, nil
}

// adopt makes a Spawned this Supervisor's Envoy: its exit watched, its output forwarded.
func (s *Supervisor) adopt(sp *Spawned) *proc {
	go s.watch(sp.p)
	s.forward(sp.outR, sp.errR)
	return sp.p
}
