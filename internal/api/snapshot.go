package api

import (
	"context"
	"sync"
	"time"

	"github.com/appnet/appnet-agent/internal/promtext"

	"github.com/hashicorp/go-hclog"
)

// DefaultSnapshotPeriod is the reference agent's fixed stats snapshot period.
const DefaultSnapshotPeriod = 60 * time.Second

// Snapshotter takes a snapshot of the metrics extension's stats every period
// (ENABLE_STATS_SNAPSHOT) and keeps the delta between the last two, which
// /stats/prometheus?delta serves (docs/API.md, "Deltas"). Its methods are safe for
// concurrent use; Run is its one goroutine.
type Snapshotter struct {
	fetch     func(ctx context.Context) (*promtext.Exposition, error)
	period    time.Duration
	newTicker func(time.Duration) (<-chan time.Time, func())
	log       hclog.Logger

	mu        sync.Mutex
	snap      []promtext.Family // the last snapshot, as text (see internal/promtext); nil after Reset
	haveSnap  bool
	delta     [][]byte // rendered delta, one chunk per family, served as is
	haveDelta bool
	gen       uint64 // bumped by Reset, so a snapshot that straddles one is discarded
}

// NewSnapshotter returns a snapshotter that takes snapshots with fetch (the filtered families,
// fetchFiltered) every period (default DefaultSnapshotPeriod). newTicker, when set, replaces
// time.NewTicker (tests).
func NewSnapshotter(fetch func(ctx context.Context) (*promtext.Exposition, error), period time.Duration,
	newTicker func(time.Duration) (<-chan time.Time, func()), log hclog.Logger) *Snapshotter {
	if period <= 0 {
		period = DefaultSnapshotPeriod
	}
	if newTicker == nil {
		newTicker = func(d time.Duration) (<-chan time.Time, func()) {
			t := time.NewTicker(d)
			return t.C, t.Stop
		}
	}
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return &Snapshotter{fetch: fetch, period: period, newTicker: newTicker, log: log}
}

// Run takes a snapshot at every tick until ctx ends. As in the reference, the first snapshot
// is one period after the start, none at once.
func (s *Snapshotter) Run(ctx context.Context) {
	tick, stop := s.newTicker(s.period)
	defer stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
			_ = s.Take(ctx)
		}
	}
}

// Take takes one snapshot now. On any failure the previous snapshot and delta stay, so the
// next success covers a longer window; the error is logged and returned.
func (s *Snapshotter) Take(ctx context.Context) error {
	s.mu.Lock()
	gen, base := s.gen, s.snap
	if !s.haveSnap {
		base = nil
	}
	s.mu.Unlock()

	ft, err := s.fetch(ctx)
	var cur []promtext.Family
	if err == nil {
		cur, err = ft.Sorted()
	}
	if err != nil {
		s.log.Warn("Stats snapshot failed; keeping the previous snapshot and delta", "error", err)
		return err
	}
	delta := cur // the first snapshot (after a reset) holds cumulative values
	if base != nil {
		collectAfter(ft.Size()) // what reading Envoy's body left behind goes before the delta grows
		// promtext.Delta consumes the previous snapshot, family by family, so the two never
		// stand in memory whole beside the new delta: it is detached first.
		s.mu.Lock()
		if s.gen == gen {
			s.snap, s.haveSnap = nil, false
		}
		s.mu.Unlock()
		if delta, err = promtext.Delta(base, cur); err != nil {
			// Not expected: the text is our own rendering. The new snapshot becomes the base,
			// and the previous delta is served until the next one.
			s.log.Warn("Stats snapshot cannot be differenced; keeping the previous delta", "error", err)
			s.mu.Lock()
			if s.gen == gen {
				s.snap, s.haveSnap = cur, true
			}
			s.mu.Unlock()
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gen != gen {
		// Envoy exited or restarted meanwhile: these values may be the old Envoy's, and a
		// delta against them would be wrong. The next tick starts afresh.
		s.log.Debug("Envoy restarted during a stats snapshot; discarding it")
		return nil
	}
	s.snap, s.haveSnap = cur, true
	s.delta, s.haveDelta = promtext.Texts(delta), true
	releaseAfter(ft.Size())
	return nil
}

// Reset forgets the snapshot (not the delta, which is served until the next snapshot), so
// the next delta is the new Envoy's cumulative values instead of a difference across a
// restart. Called when Envoy exits or starts.
func (s *Snapshotter) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	had := s.haveSnap
	s.snap, s.haveSnap = nil, false
	s.gen++
	if had {
		s.log.Info("Snapshot reset due to Envoy process exit.")
	}
}

// Delta returns the rendered delta between the last two snapshots, in chunks, and whether
// there is one yet.
func (s *Snapshotter) Delta() ([][]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.delta, s.haveDelta
}
