// Package loadtime holds the checks Envoy makes in C++ while it loads a bootstrap, which protoc-gen-validate rules
// do not express: discovery type against endpoints, filter chains that cannot be told apart, terminal filters,
// duplicate domains, TLS contexts without certificates, regular expressions RE2 refuses, and so on. The files are
// organised like Envoy's source tree (one per subsystem), and each rule names the Envoy source file and the error
// text it mirrors.
//
// The package does not walk the configuration itself: package validate's walker visits every message, including
// every unpacked Any and TypedStruct payload, and calls Run for each one, so a rule registered on a message type
// applies wherever that message appears. The walker is seen through the small Walk interface, which keeps this
// package free of any dependency on its caller.
package loadtime

import (
	"fmt"
	"maps"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	httpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Walk is what a rule sees of the walk: where it is and where to report.
type Walk interface {
	// Path is the field path of the message being checked, e.g. "static_resources.clusters[2]".
	Path() string
	// Report records a problem at a field path.
	Report(path, message string)
	// Warn records a finding at a field path that some Envoy of the supported range (1.35-1.40) or some build
	// loads: reported, never refused.
	Warn(path, message string)
	// Parent returns the message holding the current one and the name of the field it sits in, or nil at the
	// root. For an unpacked payload the parent is its Any (or TypedStruct), and the field is empty.
	Parent() (protoreflect.Message, protoreflect.Name)
	// Ancestor returns the nearest enclosing message of the given type, or nil.
	Ancestor(name protoreflect.FullName) protoreflect.Message
}

// Rule checks one message; it reports through the context and must not panic on any input.
type Rule func(c *Context, m protoreflect.Message)

// Context is handed to every rule: the walk, and facts about the whole bootstrap that some rules need.
type Context struct {
	Walk
	facts *facts

	optsOf *clusterv3.Cluster // the cluster whose HTTP protocol options opts holds
	opts   *httpv3.HttpProtocolOptions

	defaultTracerUsed bool // a listener's connection manager uses the bootstrap's tracer
	// static validation-context secrets a TLS context names without sds_config (and without merging them into a
	// combined context): the ones Envoy builds at load
	validationSecretsUsed map[string]bool

	//lint:ignore U1000 an empty struct in the lean build (appnet_lean), whose rules remember nothing of their own
	extensionState          // what only extension rules remember (context_ext.go; empty in the lean build)
	finishers      []func() // checks that need the whole walk first (Finish)
}

// NewContext prepares the rules for one bootstrap walked by w.
func NewContext(b *bootstrapv3.Bootstrap, w Walk) *Context {
	return &Context{Walk: w, facts: newFacts(b)}
}

// Run applies the rules registered for m's type.
func (c *Context) Run(m protoreflect.Message) {
	for _, r := range rulesByType()[m.Descriptor().FullName()] {
		r(c, m)
	}
}

// Finish runs the checks that need every message of the bootstrap first; the caller calls it after the walk.
func (c *Context) Finish() {
	for _, f := range c.finishers {
		f()
	}
	c.finishers = nil
}

// registration is one rule registered for a message type.
type registration struct {
	name protoreflect.FullName
	rule Rule
}

// registrations holds every registered rule in registration order; the init functions of the subsystem files
// append to it before any Check can run. It is one slice rather than a map of slices: filling a map at init cost
// every run of the agent ~200 allocations before Envoy starts (185 of loadtime's 291 at the time), and the lookup
// table is built from this list once, when the first bootstrap is checked (rulesByType).
var registrations = make([]registration, 0, 384) // the full build registers ~350, the lean one ~230

func register(name protoreflect.FullName, rs ...Rule) {
	for _, r := range rs {
		registrations = append(registrations, registration{name, r})
	}
}

// rulesByType maps a message full name to the rules run wherever such a message appears, in registration order;
// built when the first bootstrap is checked, not at package initialisation.
var rulesByType = sync.OnceValue(func() map[protoreflect.FullName][]Rule {
	byType := map[protoreflect.FullName][]Rule{}
	for _, r := range registrations {
		byType[r.name] = append(byType[r.name], r.rule)
	}
	return byType
})

// RuleNames returns the names of the registered rules, "loadtime.<function>", sorted: the inventory of Envoy's
// checks (docs/envoy-checks) names rules by their Go function's name. The names are looked up when asked for, not
// at registration: runtime.FuncForPC for ~200 rules was a sixth of this package's initialisation, paid by every
// run of the agent for a list only the inventory reads.
func RuleNames() []string {
	names := make(map[string]bool, len(registrations))
	for _, r := range registrations {
		names[FuncName(r.rule)] = true
	}
	return slices.Sorted(maps.Keys(names))
}

// RuleTable returns "<message full name>\t<rule's function name>" for every registered rule, sorted: what the guard
// of the lean build (tag appnet_lean) compares with the full build's.
func RuleTable() []string {
	var table []string
	for name, rs := range rulesByType() {
		for _, r := range rs {
			table = append(table, string(name)+"\t"+FuncName(r))
		}
	}
	slices.Sort(table)
	return slices.Compact(table)
}

// ExtensionHookTypes returns, by hook, the message types that the extension branches of untagged rules concern:
// hooks that files tagged !appnet_lean fill (resolversOf, dnsFailureRefreshRateOf, slotWordings, and
// pathRewritePairing, which acts on routes holding the URI-template configs). RuleTable cannot show them; the lean
// build's guard holds them apart from the types the built-in templates emit.
func ExtensionHookTypes() map[string][]protoreflect.FullName {
	hooks := map[string][]protoreflect.FullName{}
	if pathRewritePairing != nil {
		hooks["pathRewritePairing"] = uriTemplateConfigs
	}
	for name := range resolversOf {
		hooks["resolversOf"] = append(hooks["resolversOf"], name)
	}
	for name := range dnsFailureRefreshRateOf {
		hooks["dnsFailureRefreshRateOf"] = append(hooks["dnsFailureRefreshRateOf"], name)
	}
	for name := range slotWordings {
		hooks["slotWordings"] = append(hooks["slotWordings"], name)
	}
	return hooks
}

// FuncName returns "<package>.<function>" for a function value (for a method expression, "<package>.<method>").
func FuncName(f any) string {
	full := runtime.FuncForPC(reflect.ValueOf(f).Pointer()).Name()
	pkg := full[strings.LastIndexByte(full, '/')+1:]
	pkg, _, _ = strings.Cut(pkg, ".")
	return pkg + "." + full[strings.LastIndexByte(full, '.')+1:]
}

// envoyf reports at path: msg says what Envoy would say, and source names the Envoy file that says it. Under a
// part of the bootstrap whose errors Envoy only logs (SurvivedAtStart), it is a warning.
func (c *Context) envoyf(path, source, format string, args ...any) {
	msg := fmt.Sprintf(format, args...) + " (Envoy: " + source + ")"
	if why := SurvivedAtStart(path); why != "" {
		c.Warn(path, msg+why)
		return
	}
	c.Report(path, msg)
}

// SurvivedAtStart returns, for a field path under the load reporting or HDS config, why an error there does not
// stop Envoy: it sets both up after the load, in try/catch blocks that log "Skipping initialization of secondary
// cluster: ..." / "Skipping initialization of HDS cluster: ..." and go on without them (source/server/server.cc
// InstanceBase::onRuntimeReady, around initializeSecondaryClusters and the HDS delegate; the same in 1.35). It
// returns "" anywhere else. The API rules of those fields still hold: Envoy validates the whole bootstrap first.
func SurvivedAtStart(path string) string {
	for _, p := range [...]struct{ prefix, what string }{
		{"cluster_manager.load_stats_config", "load reporting"},
		{"hds_config", "health discovery (HDS)"},
	} {
		if rest, ok := strings.CutPrefix(path, p.prefix); ok && (rest == "" || rest[0] == '.') {
			return " — Envoy logs this and starts without " + p.what
		}
	}
	return ""
}

// envoyWarnf is envoyf for a check that not every Envoy makes: one that depends on how Envoy was built (an
// extension or a build option official release images lack) or that only some releases of 1.35-1.40 make. The
// file may load, so it is a warning (Problem.Warning), never a refusal.
func (c *Context) envoyWarnf(path, source, format string, args ...any) {
	c.Warn(path, fmt.Sprintf(format, args...)+" (Envoy: "+source+")")
}

// at returns the path of a field of the current message.
func (c *Context) at(field string) string { return join(c.Path(), field) }

// Helpers that check a part of a message take its path as a func() string and call it only to report a problem:
// most checks pass, and rendering a path for each would cost more than the checks.

func join(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// sortedKeys returns a map's keys in order, so that reports come out in a stable order.
func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// quote renders a map key as the walker renders it in paths.
func quote(key string) string { return strconv.Quote(key) }
