package validate

import (
	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/appnet/appnet-agent/internal/validate/loadtime"
)

// Options adjusts Check to where a bootstrap comes from.
type Options struct {
	// RequireNode demands node.id and node.cluster whenever dynamic resources are used: what render and run give
	// Envoy must carry them, as they start Envoy without --service-node/--service-cluster. Without it, a missing
	// or partial node is not an error (Envoy can take both from those flags; Envoy Gateway relies on that) and
	// Warnings reports it instead.
	RequireNode bool
}

// Check is CheckWith(b, Options{RequireNode: true}): the checks render and run apply to what they give Envoy.
func Check(b *bootstrapv3.Bootstrap) Problems {
	return CheckWith(b, Options{RequireNode: true})
}

// CheckWith runs the generated PGV ValidateAll on the bootstrap and on every unpacked Any/TypedStruct payload (Any
// inside Any included) and rejects deprecated fields that are disallowed by default. It then checks what Envoy
// checks at load time and PGV does not: every cluster Envoy needs at load exists (references from listeners may
// also be satisfied by CDS), cluster names are unique, no listener binds the admin address or another
// listener's address, "ads: {}" needs dynamic_resources.ads_config, a node used with xDS has an id and a cluster
// (with RequireNode), and Envoy's own load-time rules (package loadtime: clusters, listeners, filter chains,
// routes, TLS, access log formats, regular expressions, runtime, overload manager, xDS sources, addresses,
// extension categories, Lua). It returns the errors, or nil; Inspect also returns the warnings.
func CheckWith(b *bootstrapv3.Bootstrap, o Options) Problems {
	errs, _ := inspect(b, o, nil)
	return errs
}

// Inspect is CheckWith returning warnings as well (Problem.Warning): what Envoy loads but probably not as meant —
// clusters it looks up only when traffic needs them, a node Envoy takes from flags (without RequireNode), and
// loadtime's advisories. Errors come first.
func Inspect(b *bootstrapv3.Bootstrap, o Options) Problems {
	errs, warns := inspect(b, o, nil)
	return append(errs, warns...)
}

// InspectWithDeprecations is Inspect and Deprecations from one walk of the bootstrap: render
// asks for both, and the second walk was a tenth of the checks' time.
func InspectWithDeprecations(b *bootstrapv3.Bootstrap, o Options) (Problems, []Problem) {
	var deprecations []Problem
	errs, warns := inspect(b, o, &deprecations)
	return append(errs, warns...), deprecations
}

// inspect walks b once with every check; deprecations, if not nil, collects what Deprecations
// reports (the walk visits the same fields in the same order).
func inspect(b *bootstrapv3.Bootstrap, o Options, deprecations *[]Problem) (errs, warns Problems) {
	if b == nil {
		return Problems{{Message: "no bootstrap"}}, nil
	}
	dr := b.GetDynamicResources()
	c := &checker{
		b:         b,
		opts:      o,
		hasADS:    dr.GetAdsConfig() != nil,
		hasCDS:    dr.GetCdsConfig() != nil || dr.GetCdsResourcesLocator() != "",
		overrides: deprecationOverrides(b),
		used:      deprecations,
	}
	c.ignored = ignoredListeners(b)
	w := &walker{visit: c.visit, field: c.field}
	c.rules = loadtime.NewContext(b, w)
	w.walk(b.ProtoReflect(), true)
	c.rules.Finish()
	c.probs = append(w.probs, c.probs...)
	c.warns = append(c.warns, w.warns...)
	c.checkClusterRefs()
	c.checkBootstrap()
	if !o.RequireNode {
		c.warns = append(c.warns, softProblems(b)...)
	}
	if len(c.probs) == 0 {
		c.probs = nil
	}
	return c.probs, c.warns
}

// checker holds what one Check call learns while walking.
type checker struct {
	b         *bootstrapv3.Bootstrap
	opts      Options
	hasADS    bool
	hasCDS    bool
	overrides runtimeOverrides
	refs      []clusterRef
	unchecked []string        // path prefixes of route tables with validate_clusters: false
	validated []proto.Message // route tables whose clusters Envoy validates
	probs     Problems
	warns     Problems
	rules     *loadtime.Context
	ignored   map[protoreflect.ProtoMessage]bool // static listeners Envoy drops unread (ignoredListeners)
	used      *[]Problem                         // if not nil, every deprecation in use, as Deprecations lists it
}

// ignoredListeners returns the static listeners named like an earlier one: Envoy locks a static listener against
// updates, so it drops such a listener before building anything of it (listener_manager_impl.cc,
// addOrUpdateListenerInternal: "duplicate/locked listener", checked before ListenerImpl::create). Its payloads are
// neither validated nor built, so no load-time rule applies to it (duplicateListeners warns about it instead).
func ignoredListeners(b *bootstrapv3.Bootstrap) map[protoreflect.ProtoMessage]bool {
	var ignored map[protoreflect.ProtoMessage]bool
	listeners := b.GetStaticResources().GetListeners()
	for i, l := range listeners {
		if l.GetName() == "" {
			continue
		}
		for _, earlier := range listeners[:i] { // a sidecar has a handful of listeners: no map to allocate
			if earlier.GetName() == l.GetName() {
				if ignored == nil {
					ignored = map[protoreflect.ProtoMessage]bool{}
				}
				ignored[l] = true
				break
			}
		}
	}
	return ignored
}

// inIgnored reports whether the walk is inside a listener Envoy drops unread.
func (c *checker) inIgnored(w *walker) bool {
	for _, m := range w.msgs {
		if c.ignored[m.Interface()] {
			return true
		}
	}
	return false
}

type validator interface{ ValidateAll() error }

func (c *checker) visit(w *walker, m protoreflect.Message, root bool) {
	if c.ignored != nil && c.inIgnored(w) {
		return
	}
	if root {
		if v, ok := m.Interface().(validator); ok {
			if err := v.ValidateAll(); err != nil {
				w.probs = pgvProblems(err, m.Descriptor(), w.path(), w.probs)
			}
		}
	}
	c.messageChecks(w, m)
	c.rules.Run(m)
}

// field rejects deprecated fields and enum values that Envoy refuses unless a runtime key allows them.
func (c *checker) field(w *walker, _ protoreflect.Message, fd protoreflect.FieldDescriptor, v protoreflect.Value) {
	eachDeprecation(fd, v, func(d deprecation) {
		if c.used != nil {
			*c.used = append(*c.used, Problem{Path: w.pathTo(string(fd.Name())), Message: d.warning()})
		}
		if d.disallowed && !c.overrides.allows(d.name) {
			w.report(w.pathTo(string(fd.Name())), d.disallowedMessage())
		}
	})
}
