package supervise

import (
	"fmt"
	"syscall"

	"github.com/appnet/appnet-agent/internal/platform"
)

// OOM attribution: the kernel's OOM killer ends its victim with SIGKILL and counts it in the
// container cgroup's oom_kill. An Envoy that died of a SIGKILL the agent did not send, while
// that count grew, was the OOM killer's: its exit says so (/status lastExitReason, the
// log, appnet_agent_envoy_oom_kills_total) instead of a bare "killed by signal 9".

// oomCount reads the container's oom_kill count; ok is false where the cgroup does not say
// (no cgroup memory controller, kernels before 4.13), and then nothing is attributed.
func (s *Supervisor) oomCount() (n uint64, ok bool) {
	n, err := platform.ReadOOMKills(s.opts.CgroupRoot)
	return n, err == nil
}

// attributeOOM marks p's exit as an OOM kill when it was one; killedByUs is true when the
// agent itself sent the SIGKILL (an Envoy that ignored SIGTERM).
func (s *Supervisor) attributeOOM(p *proc, killedByUs bool) {
	if killedByUs || p.x.signal != syscall.SIGKILL || !p.oomKnown {
		return
	}
	after, ok := s.oomCount()
	if !ok || after <= p.oomBefore {
		return
	}
	limit := "no container memory limit"
	if m, err := platform.ReadMemoryLimit(s.opts.CgroupRoot); err == nil && !m.Unlimited() {
		limit = fmt.Sprintf("limit %d bytes", m.LimitBytes)
	}
	p.x.oom = true
	p.x.reason = "killed by the kernel's OOM killer (" + limit + ")"
	s.log.Error("Envoy was killed by the kernel's OOM killer ("+limit+")", "pid", p.pid, "container_oom_kills", after)
}
