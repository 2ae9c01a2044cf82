package supervise

import (
	"maps"
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/appnet/appnet-agent/internal/testenv"
)

// TestFamilyMatchesProcScan checks the children lists against the scan of all of /proc they
// replace: the same live descendants with the same parents, and the same zombie children.
func TestFamilyMatchesProcScan(t *testing.T) {
	if _, ok := childrenOf(os.Getpid()); !ok {
		t.Skip("this kernel keeps no children lists (CONFIG_PROC_CHILDREN)")
	}
	self := os.Getpid()
	// A child with two grandchildren, and a child that exits and stays unreaped (a zombie).
	tree := exec.Command("sh", "-c", "sleep 30 & sleep 30 & echo ready; wait")
	out, err := tree.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := tree.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		for pid := range family(tree.Process.Pid) {
			_ = syscallKill(pid)
		}
		_ = tree.Process.Kill()
		_ = tree.Wait()
	}()
	buf := make([]byte, 6)
	if _, err := out.Read(buf); err != nil {
		t.Fatal(err)
	}
	zombie := exec.Command("true")
	if err := zombie.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = zombie.Wait() }()
	testenv.WaitFor(t, 5*time.Second, "a zombie child", func() bool { return procState(zombie.Process.Pid) == "Z" })

	got := family(self)
	want := map[int]int{}
	all := processParents()
	for pid, ppid := range all {
		for p := pid; p > 1; p = all[p] {
			if all[p] == self {
				want[pid] = ppid
				break
			}
		}
	}
	if !maps.Equal(got, want) {
		t.Errorf("family(self) = %v\nthe scan of /proc finds %v", got, want)
	}
	if n := len(got); n < 3 {
		t.Errorf("family(self) has %d processes, want at least the child and its two sleeps: %v", n, got)
	}
	if _, ok := got[zombie.Process.Pid]; ok {
		t.Errorf("family(self) lists the zombie %d", zombie.Process.Pid)
	}
	zombies, ok := zombieChildren(self)
	slices.Sort(zombies)
	scanned := scannedZombies(self)
	slices.Sort(scanned)
	if !ok || !slices.Equal(zombies, scanned) || !slices.Contains(zombies, zombie.Process.Pid) {
		t.Errorf("zombieChildren = %v (lists %v), the scan of /proc finds %v; want both to hold %d", zombies, ok, scanned, zombie.Process.Pid)
	}
}

func syscallKill(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}

// BenchmarkFindStrays compares the two ways of finding the agent's family at a restart.
func BenchmarkFindStrays(b *testing.B) {
	self := os.Getpid()
	b.Run("children-lists", func(b *testing.B) {
		for b.Loop() {
			_ = family(self)
		}
	})
	b.Run("proc-scan", func(b *testing.B) {
		for b.Loop() {
			_ = processParents()
		}
	})
}

// BenchmarkKillStraysWhenThereAreNone is the strays check of every restart after Envoy's usual exit: the agent's
// only child is the exited Envoy (here: a zombie child of this process, which is tracked by a pidfd).
func BenchmarkKillStraysWhenThereAreNone(b *testing.B) {
	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	waitExitedNoReap(cmd.Process.Pid)
	defer func() { _ = cmd.Wait() }()
	r := &Reaper{owned: map[int]bool{}}
	for b.Loop() {
		if n := r.killStrays(cmd.Process.Pid); n != 0 {
			b.Fatalf("killed %d", n)
		}
	}
}
