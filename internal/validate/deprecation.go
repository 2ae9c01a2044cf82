package validate

import (
	"slices"
	"strings"

	"github.com/envoyproxy/go-control-plane/envoy/annotations"
	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/known/structpb"
)

// Deprecations lists the set fields and enum values that the Envoy API marks deprecated, with the API version that
// deprecated them when Envoy's deprecated_at_minor_version annotation says so. They are warnings: Envoy accepts them
// (those also disallowed by default are errors, reported by Check).
func Deprecations(b *bootstrapv3.Bootstrap) []Problem {
	if b == nil {
		return nil
	}
	var out []Problem
	w := &walker{
		visit: func(*walker, protoreflect.Message, bool) {},
		field: func(w *walker, _ protoreflect.Message, fd protoreflect.FieldDescriptor, v protoreflect.Value) {
			eachDeprecation(fd, v, func(d deprecation) {
				out = append(out, Problem{Path: w.pathTo(string(fd.Name())), Message: d.warning()})
			})
		},
	}
	w.walk(b.ProtoReflect(), true)
	return out
}

// deprecation describes one deprecated field or enum value in use.
type deprecation struct {
	name       string // full name: the suffix of Envoy's runtime override key
	enumValue  bool
	since      string
	disallowed bool
}

func (d deprecation) what() string {
	if d.enumValue {
		return "enum value " + d.name
	}
	return "field " + d.name
}

func (d deprecation) warning() string {
	msg := "deprecated " + d.what()
	if d.since != "" {
		msg += " (since API " + d.since + ")"
	}
	if d.disallowed {
		msg += "; disallowed by default"
	}
	return msg
}

func (d deprecation) disallowedMessage() string {
	return "deprecated " + d.what() + " is disallowed by default: Envoy rejects it unless runtime key " +
		"\"envoy.deprecated_features:" + d.name + "\" (or envoy.features.enable_all_deprecated_features) is true"
}

// eachDeprecation calls fn for a deprecated field, and for every deprecated enum value the field holds.
func eachDeprecation(fd protoreflect.FieldDescriptor, v protoreflect.Value, fn func(deprecation)) {
	if d, ok := declaredDeprecation(fd, false); ok {
		fn(d)
	}
	if fd.Kind() != protoreflect.EnumKind || fd.IsMap() {
		return
	}
	values := fd.Enum().Values()
	check := func(n protoreflect.EnumNumber) {
		if ev := values.ByNumber(n); ev != nil {
			if d, ok := declaredDeprecation(ev, true); ok {
				fn(d)
			}
		}
	}
	if fd.IsList() {
		l := v.List()
		for i := 0; i < l.Len(); i++ {
			check(l.Get(i).Enum())
		}
		return
	}
	check(v.Enum())
}

// declaredDeprecation is what the API declares about a field (enumValue false) or an enum value: deprecated or not,
// since which API version, disallowed by default or not. For the API files linked into the agent it comes from
// apiDeprecations, generated from those files' options (TestDeprecationTable keeps it exact); reading the options
// themselves unpacks them field by field, with the types of every option they carry, which was about a tenth of
// the agent's first render. A descriptor of any other file is read from its options.
func declaredDeprecation(d protoreflect.Descriptor, enumValue bool) (deprecation, bool) {
	if f := d.ParentFile(); f != nil {
		if _, tabled := slices.BinarySearch(apiDeprecationFiles, f.Path()); tabled {
			i, found := slices.BinarySearchFunc(apiDeprecations, string(d.FullName()), func(e deprecation, name string) int {
				return strings.Compare(e.name, name)
			})
			if !found || apiDeprecations[i].enumValue != enumValue {
				return deprecation{}, false
			}
			return apiDeprecations[i], true
		}
	}
	return optionsDeprecation(d, enumValue)
}

// optionsDeprecation reads declaredDeprecation's answer from the descriptor's options.
func optionsDeprecation(d protoreflect.Descriptor, enumValue bool) (deprecation, bool) {
	var since string
	var disallowed bool
	switch opts := d.Options().(type) {
	case *descriptorpb.FieldOptions:
		if enumValue || !opts.GetDeprecated() {
			return deprecation{}, false
		}
		since, _ = proto.GetExtension(opts, annotations.E_DeprecatedAtMinorVersion).(string)
		disallowed, _ = proto.GetExtension(opts, annotations.E_DisallowedByDefault).(bool)
	case *descriptorpb.EnumValueOptions:
		if !enumValue || !opts.GetDeprecated() {
			return deprecation{}, false
		}
		since, _ = proto.GetExtension(opts, annotations.E_DeprecatedAtMinorVersionEnum).(string)
		disallowed, _ = proto.GetExtension(opts, annotations.E_DisallowedByDefaultEnum).(bool)
	default:
		return deprecation{}, false
	}
	return deprecation{name: string(d.FullName()), enumValue: enumValue, since: since, disallowed: disallowed}, true
}

// runtimeOverrides are the static runtime keys that let Envoy accept disallowed deprecated features.
type runtimeOverrides struct {
	all  bool
	keys map[string]bool
}

func (r runtimeOverrides) allows(name string) bool {
	return r.all || r.keys["envoy.deprecated_features:"+name]
}

// deprecationOverrides reads envoy.features.enable_all_deprecated_features and envoy.deprecated_features:* from the
// static runtime layers (the App Mesh bootstrap turns the former on). Later layers win, as in Envoy.
func deprecationOverrides(b *bootstrapv3.Bootstrap) runtimeOverrides {
	var r runtimeOverrides
	for _, layer := range b.GetLayeredRuntime().GetLayers() {
		if st := layer.GetStaticLayer(); st != nil {
			r.add("", st, 0)
		}
	}
	return r
}

// add reads one static layer; Envoy flattens nested maps into dotted keys.
func (r *runtimeOverrides) add(prefix string, st *structpb.Struct, depth int) {
	for k, v := range st.GetFields() {
		if prefix != "" {
			k = prefix + "." + k
		}
		if sub := v.GetStructValue(); sub != nil && depth < 16 {
			r.add(k, sub, depth+1)
			continue
		}
		on := v.GetBoolValue() || v.GetStringValue() == "true"
		switch {
		case k == "envoy.features.enable_all_deprecated_features":
			r.all = on
		case strings.HasPrefix(k, "envoy.deprecated_features:"):
			if r.keys == nil {
				r.keys = map[string]bool{}
			}
			r.keys[k] = on
		}
	}
}
