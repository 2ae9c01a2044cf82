package api

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/time/rate"
)

// limit is one endpoint's budget. Each endpoint has its own (H2): the reference shared one
// 10/s bucket among all four, so scrapes and probes starved /status of health checkers.
type limit struct {
	perSecond rate.Limit
	burst     int
}

// Budgets per endpoint. /status is served from memory in microseconds; its limit only stops
// a runaway client from eating a core. The others call Envoy's single-threaded admin API.
var (
	statusLimit  = limit{perSecond: 1000, burst: 1000}
	metricsLimit = statusLimit                     // /metrics is built from memory too, and open like /status
	statsLimit   = limit{perSecond: 10, burst: 20} // per locality, with the slots below
	loggingLimit = limit{perSecond: 10, burst: 20}
	drainLimit   = limit{perSecond: 10, burst: 20}
)

// limited wraps h with the budget l: 429 "Too Many Requests" once it is spent, as in the
// reference.
func limited(l limit, h http.Handler) http.Handler {
	lim := rate.NewLimiter(l.perSecond, l.burst)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !lim.Allow() {
			tooMany(w)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func tooMany(w http.ResponseWriter) {
	http.Error(w, http.StatusText(http.StatusTooManyRequests), http.StatusTooManyRequests)
}

// The admission policy of /stats/prometheus (issue 16, item 7). A scrape holds one of a few
// slots while it runs, because each calls Envoy's single-threaded admin API and a filtered
// one holds Envoy's body in memory. Slow clients must not be able to keep those slots: the
// endpoint is open to remote clients by design, and a handful of connections reading a large
// body at a crawl once held every slot for minutes, so every other scrape got 429.
//
//   - a scrape has scrapeLimit in all, from its admission; past it the reply is cut (the
//     connection is closed: a client never mistakes a cut body for a whole one);
//   - a fresh scrape that finds no free slot takes the one of the oldest scrape that has run
//     for crawlAfter or more, which is cut at once;
//   - local clients (loopback, or the Unix socket) have their own request budget, and
//     localReserve slots that remote clients never take, so remote clients cannot deny the
//     endpoint to a Prometheus in the task; a remote newcomer never cuts a local scrape;
//   - one remote address holds at most perRemoteAddr slots, so one remote client cannot
//     deny it to another.
const (
	maxScrapes    = 4
	localReserve  = 1
	perRemoteAddr = 2
	scrapeLimit   = time.Minute
	// crawlAfter is Prometheus's default scrape timeout: a default-configured Prometheus has
	// given up on a scrape that old.
	crawlAfter = 10 * time.Second
)

// scrapeGate admits /stats/prometheus requests to next by the policy above.
type scrapeGate struct {
	next   http.Handler
	local  func(*http.Request) bool
	budget map[bool]*rate.Limiter // by locality
	log    hclog.Logger
	now    func() time.Time
	// limit and crawl are scrapeLimit and crawlAfter (tests shorten them).
	limit, crawl time.Duration

	mu      sync.Mutex
	running []*scrapeSlot // oldest first
}

func newScrapeGate(next http.Handler, local func(*http.Request) bool, l limit, log hclog.Logger) *scrapeGate {
	return &scrapeGate{next: next, local: local, log: log, now: time.Now, limit: scrapeLimit, crawl: crawlAfter, budget: map[bool]*rate.Limiter{
		true: rate.NewLimiter(l.perSecond, l.burst), false: rate.NewLimiter(l.perSecond, l.burst)}}
}

// scrapeSlot is one admitted request and the slot it holds.
type scrapeSlot struct {
	local    bool
	addr     string // the client's IP, for remote clients
	started  time.Time
	deadline time.Time
	cancel   context.CancelFunc

	mu  sync.Mutex
	rc  *http.ResponseController
	cut error // why the scrape was cut, once it was
}

// errScrapeCut marks why a reply was cut (see scrapeSlot.explain).
var errScrapeCut = errors.New("scrape cut")

type scrapeKey struct{}

// scrapeOf is the admitted scrape a request belongs to; nil outside the gate.
func scrapeOf(ctx context.Context) *scrapeSlot {
	s, _ := ctx.Value(scrapeKey{}).(*scrapeSlot)
	return s
}

func (g *scrapeGate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	local := g.local(r)
	if !g.budget[local].Allow() {
		tooMany(w)
		return
	}
	now := g.now()
	ctx, cancel := context.WithDeadline(r.Context(), now.Add(g.limit))
	defer cancel()
	s := &scrapeSlot{local: local, started: now, deadline: now.Add(g.limit), cancel: cancel, rc: http.NewResponseController(w)}
	if !local {
		s.addr, _, _ = net.SplitHostPort(r.RemoteAddr)
	}
	victim, ok := g.admit(s)
	if !ok {
		tooMany(w)
		return
	}
	defer g.release(s)
	if victim != nil {
		ran := now.Sub(victim.started).Round(time.Millisecond)
		victim.stop(fmt.Errorf("%w: it ran for %s, over %s, and its slot went to a fresh scrape", errScrapeCut, ran, g.crawl))
	}
	g.next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, scrapeKey{}, s)))
}

// admit gives s a slot, free or taken from a crawling scrape (the victim, to be cut); ok is
// false when there is none.
func (g *scrapeGate) admit(s *scrapeSlot) (victim *scrapeSlot, ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	remote, fromAddr := 0, 0
	for _, c := range g.running {
		if !c.local {
			remote++
			if c.addr == s.addr {
				fromAddr++
			}
		}
	}
	// Whether s may hold a slot once a scrape like c (nil: none) is gone.
	allowed := func(c *scrapeSlot) bool {
		if s.local {
			return true
		}
		r, a := remote, fromAddr
		if c != nil && !c.local {
			r--
			if c.addr == s.addr {
				a--
			}
		}
		return r < maxScrapes-localReserve && a < perRemoteAddr
	}
	if len(g.running) < maxScrapes && allowed(nil) {
		g.running = append(g.running, s)
		return nil, true
	}
	for i, c := range g.running {
		if s.started.Sub(c.started) < g.crawl {
			break // the rest are younger
		}
		if (c.local && !s.local) || !allowed(c) {
			continue
		}
		g.running = append(append(g.running[:i:i], g.running[i+1:]...), s)
		return c, true
	}
	return nil, false
}

func (g *scrapeGate) release(s *scrapeSlot) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, c := range g.running {
		if c == s {
			g.running = append(g.running[:i:i], g.running[i+1:]...)
			return
		}
	}
}

// stop cuts the scrape: a write to its client fails at once (blocked ones too), and its
// Envoy call ends.
func (s *scrapeSlot) stop(why error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cut == nil {
		s.cut = why
	}
	_ = s.rc.SetWriteDeadline(time.Unix(1, 0))
	s.cancel()
}

// beforeWrite sets the deadline of the next write to the client: stall from now, but not past
// the scrape's limit. It fails once the scrape was cut.
func (s *scrapeSlot) beforeWrite(stall time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cut != nil {
		return s.cut
	}
	d := time.Now().Add(stall)
	if s.deadline.Before(d) {
		d = s.deadline
	}
	_ = s.rc.SetWriteDeadline(d) // unsupported only on test recorders
	return nil
}

// explain says why a read or write failed when the scrape was cut or ran out of time; stopped
// reports that it did.
func (s *scrapeSlot) explain(err error) (_ error, stopped bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.cut != nil:
		return fmt.Errorf("%w (%v)", s.cut, err), true
	case !time.Now().Before(s.deadline) && (errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded)):
		return fmt.Errorf("%w: it ran for its limit of %s (%v)", errScrapeCut, s.deadline.Sub(s.started), err), true
	}
	return err, false
}
