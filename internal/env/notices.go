package env

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
)

// Nothing is silent: a set variable that the current mode does not read, or that has no
// effect in it, gets one warning saying why, and an unknown variable with one of the agent's
// prefixes gets one suggesting the closest known name.

// noticeIgnored warns about a set variable that a `when` predicate skipped.
func (l *loader) noticeIgnored(name, raw, why string) {
	if raw != "" {
		l.warn(fmt.Sprintf("%s is ignored: %s", name, why))
	}
}

// noticeNoEffect warns about set variables whose `effect` predicate does not hold, once
// every variable (and every rule between them) is known.
func (l *loader) noticeNoEffect() {
	for _, g := range l.effects {
		if why := predicates[g.predicate].whyNot(l.cfg); why != "" {
			l.noticeIgnored(g.name, l.lookup(g.name), why)
		}
	}
}

// agentPrefixes mark the variables that are the agent's (or the reference agent's).
var agentPrefixes = []string{"APPNET_", "APPMESH_", "ENVOY_"}

// foreignNames have an agent prefix but belong to someone else: the Envoy image's
// entrypoint reads ENVOY_UID and ENVOY_GID.
var foreignNames = map[string]bool{"ENVOY_UID": true, "ENVOY_GID": true}

// noticeUnknown warns about variables in Options.Names that carry an agent prefix but are
// not known: most likely a typo, which would otherwise be silently ignored.
func (l *loader) noticeUnknown() {
	var unknown []string
	for _, n := range l.opts.Names {
		if foreignNames[n] || !slices.ContainsFunc(agentPrefixes, func(p string) bool { return strings.HasPrefix(n, p) }) || l.isKnown(n) {
			continue
		}
		unknown = append(unknown, n)
	}
	slices.Sort(unknown)
	for _, n := range slices.Compact(unknown) {
		if s := suggest(n, knownNames()); s != "" {
			l.warn(fmt.Sprintf("%s is not a variable appnet-agent reads, so it is ignored; did you mean %s?", n, s))
		} else {
			l.warn(fmt.Sprintf("%s is not a variable appnet-agent reads, so it is ignored (`appnet-agent env` lists them all)", n))
		}
	}
}

// knownOnce is the set of Vars' names, made once per process (every Load asks for it) from the struct tags
// alone: Vars also renders each variable's type, bounds and conditions, which every start of the agent paid for
// nothing. TestKnownNamesAreVars holds the two to the same names.
var knownOnce = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	eachVar(reflect.TypeOf(Config{}), func(_ reflect.StructField, name string) { m[name] = true })
	return m
})

func knownNames() map[string]bool { return knownOnce() }

// isKnown reports whether n is a variable the agent reads. The names the walk looked up are
// known, and in a start without stray variables they are all there is to look at: the set of
// every name (a second walk over the tags, and a map of them) is built only for another one.
func (l *loader) isKnown(n string) bool {
	return slices.Contains(l.read, n) || knownNames()[n]
}

// suggest returns the known name closest to an unknown one, or "" when none is close: a few
// edits away (a typo), or the same words in any order with one or two added or left out
// (APPNET_RESTART_COUNT or ENVOY_APPNET_RESTART_COUNT for APPNET_ENVOY_RESTART_COUNT).
//
// The edit distance is at least the difference in length, so a name whose length is further off
// than the typo bound can only be close by its words, which are checked first; its distance is
// computed only then (it still ranks the candidates). Every start of the agent with a stray
// variable of an agent prefix pays this: computing the distance to each of a hundred names was
// half of a cold Load.
func suggest(name string, known map[string]bool) string {
	best, bestDist := "", -1
	words := strings.Split(name, "_")
	limit := max(2, len(name)/8)
	for k := range known {
		var d int
		var close bool
		if abs(len(name)-len(k)) <= limit {
			d = editDistance(name, k)
			close = d <= limit || sameWordsBut(words, strings.Split(k, "_"), 2)
		} else if close = sameWordsBut(words, strings.Split(k, "_"), 2); close {
			d = editDistance(name, k)
		}
		if close && (bestDist < 0 || d < bestDist || (d == bestDist && k < best)) {
			best, bestDist = k, d
		}
	}
	return best
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// sameWordsBut reports whether two word lists hold the same words, in any order, but for at
// most n added or left out, sharing at least two.
func sameWordsBut(a, b []string, n int) bool {
	count := map[string]int{}
	for _, w := range a {
		count[w]++
	}
	shared := 0
	for _, w := range b {
		if count[w] > 0 {
			count[w]--
			shared++
		}
	}
	return shared >= 2 && len(a)-shared+len(b)-shared <= n
}

// editDistance is the Levenshtein distance between a and b (bytes: names are ASCII).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
