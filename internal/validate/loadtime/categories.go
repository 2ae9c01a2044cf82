package loadtime

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"

	udpatype "github.com/cncf/xds/go/udpa/type/v1"
	xdstype "github.com/cncf/xds/go/xds/type/v3"
)

// extensionInfo is one entry of extensionsByType: a config message type, the extension it belongs to and the
// extension's categories.
type extensionInfo struct {
	configType string
	name       string
	categories []string
}

// extensionOf returns the entry of extensionsByType for a config message type (a full name), if there is one.
func extensionOf(typ string) (extensionInfo, bool) {
	i, found := slices.BinarySearchFunc(extensionsByType, typ, func(e extensionInfo, t string) int {
		return strings.Compare(e.configType, t)
	})
	if !found {
		return extensionInfo{}, false
	}
	return extensionsByType[i], true
}

// extensionName returns the name of the extension a config message type configures, or "".
func extensionName(typ string) string {
	info, _ := extensionOf(typ)
	return info.name
}

// slotMessage is one entry of a slot table: a message and its extension slots, sorted by field name.
type slotMessage struct {
	message protoreflect.FullName
	slots   []slotField
}

// slotField is one slot of a message, with the categories it takes.
type slotField struct {
	name protoreflect.Name
	cats []string
}

// extraSlots are extension slots the API does not annotate with a category although Envoy looks the extension up
// in one registry: checked like the annotated ones, and taking precedence over an annotated slot of the same field.
// Sorted like the generated table (TestSlotTables keeps both tables honest, TestExtensionTablesAreSorted in order).
var extraSlots = []slotMessage{
	{"envoy.config.cluster.v3.Cluster", []slotField{{"transport_socket", []string{"envoy.transport_sockets.upstream"}}}},
	// A rate limit action's extension that is no descriptor producer is taken as an HTTP matching data input
	// (source/common/router/router_ratelimit.cc:455, "fallback to using HTTP matcher input functions").
	{"envoy.config.route.v3.RateLimit.Action", []slotField{{"extension", []string{"envoy.rate_limit_descriptors",
		"envoy.matching.http.input", "envoy.matching.common_inputs"}}}},
}

// directionalTypes narrow the metadata's per-extension categories for extensions whose upstream and downstream
// factories take different config types (source/extensions/transport_sockets/{tls,quic,starttls}/config.cc):
// each factory is registered by its own type, so an UpstreamTlsContext is not found among downstream sockets.
var directionalTypes = staticTable[string, []string]{
	{"envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext", []string{"envoy.transport_sockets.downstream"}},
	{"envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext", []string{"envoy.transport_sockets.upstream"}},
	{"envoy.extensions.transport_sockets.quic.v3.QuicDownstreamTransport", []string{"envoy.transport_sockets.downstream"}},
	{"envoy.extensions.transport_sockets.quic.v3.QuicUpstreamTransport", []string{"envoy.transport_sockets.upstream"}},
	{"envoy.extensions.transport_sockets.starttls.v3.StartTlsConfig", []string{"envoy.transport_sockets.downstream"}},
	{"envoy.extensions.transport_sockets.starttls.v3.UpstreamStartTlsConfig", []string{"envoy.transport_sockets.upstream"}},
}

// firstMatchSlots are slots of a list in which Envoy takes the first entry it has a factory for and skips the
// others (looked up with is_optional): an entry of another category is not an error there; the list's own rule
// reports a list in which no entry is usable.
// Envoy: source/common/upstream/upstream_impl.cc:1402 (ClusterInfoImpl::configureLbPolicies), the same loop in
// the subset, WRR-locality and override-host policies' children.
var firstMatchSlots = staticTable[protoreflect.FullName, protoreflect.Name]{
	{"envoy.config.cluster.v3.LoadBalancingPolicy.Policy", "typed_extension_config"},
}

// laterCategories lists extensions that a release inside 1.35-1.40 newly registers in a further category than the
// metadata of the inventory's tree (1.38-dev) says, with that release. Such a use loads on that release and
// later, and is refused before: a warning, never an error.
var laterCategories = staticTable[string, staticTable[string, string]]{
	// 1.40.0 changelog (new_features, compressor): the compressor filter also runs as an upstream HTTP filter.
	{"envoy.extensions.filters.http.compressor.v3.Compressor", staticTable[string, string]{{"envoy.filters.http.upstream", "1.40"}}},
}

// lookupByName lists the messages whose extension Envoy finds by type only: without a typed_config (or a
// config_discovery) it finds none.
var lookupByName = []protoreflect.FullName{
	"envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter",
	"envoy.config.listener.v3.Filter",
	"envoy.config.listener.v3.ListenerFilter",
	"envoy.config.accesslog.v3.AccessLog",
}

func init() {
	for _, s := range slotCategories {
		register(s.message, extensionSlots)
	}
	for _, s := range extraSlots {
		if _, annotated := findSlots(slotCategories, s.message); !annotated {
			register(s.message, extensionSlots)
		}
	}
	for _, name := range lookupByName {
		register(name, extensionWithoutType)
	}
}

// slotsOf returns a message's extension slots, the generated ones with extraSlots merged in, sorted by field name
// so that reports come out in a stable order.
func slotsOf(name protoreflect.FullName) []slotField {
	if slots, ok := findSlots(mergedExtraSlots(), name); ok {
		return slots
	}
	slots, _ := findSlots(slotCategories, name)
	return slots
}

// findSlots looks a message up in a slot table.
func findSlots(table []slotMessage, name protoreflect.FullName) ([]slotField, bool) {
	i, found := slices.BinarySearchFunc(table, name, func(s slotMessage, n protoreflect.FullName) int {
		return strings.Compare(string(s.message), string(n))
	})
	if !found {
		return nil, false
	}
	return table[i].slots, true
}

// mergedExtraSlots holds, for each message of extraSlots, all its slots: the generated ones and the extra ones, an
// extra one replacing a generated one of the same field. Merged on first use (two messages), not at start-up.
var mergedExtraSlots = sync.OnceValue(func() []slotMessage {
	merged := make([]slotMessage, 0, len(extraSlots))
	for _, extra := range extraSlots {
		generated, _ := findSlots(slotCategories, extra.message)
		slots := slices.Clone(extra.slots)
		for _, g := range generated {
			if !slices.ContainsFunc(extra.slots, func(e slotField) bool { return e.name == g.name }) {
				slots = append(slots, g)
			}
		}
		slices.SortFunc(slots, func(a, b slotField) int { return strings.Compare(string(a.name), string(b.name)) })
		merged = append(merged, slotMessage{extra.message, slots})
	}
	return merged
})

// hasSlot reports whether a message's slots include a field.
func hasSlot(slots []slotField, field protoreflect.Name) bool {
	return slices.ContainsFunc(slots, func(s slotField) bool { return s.name == field })
}

// extensionSlots: an extension configured in a slot must be of that slot's category; Envoy looks the config type
// up in the slot's factory registry only, so an HTTP filter type in a network filter slot is not found.
// Envoy: source/common/config/utility.h (getAndCheckFactory) — "Didn't find a registered implementation for
// '<name>' with type URL: '<type>'".
func extensionSlots(c *Context, m protoreflect.Message) {
	md := m.Descriptor()
	// A message held in an annotated field of its parent is checked by the parent, whose slot says more: an
	// HttpFilter in a router's upstream_http_filters is an upstream filter, not a downstream one.
	checkedByParent := false
	if parent, field := c.Parent(); parent != nil && field != "" {
		checkedByParent = hasSlot(slotsOf(parent.Descriptor().FullName()), field)
	}
	if optional(m) {
		return // Envoy skips an optional extension it finds no factory for (a cluster specifier plugin, a filter)
	}
	owner := "" // the extension's name, when the slot's message carries one next to its typed_config
	if nf := md.Fields().ByName("name"); nf != nil && nf.Kind() == protoreflect.StringKind && !nf.IsList() {
		owner = m.Get(nf).String()
	}
	for _, slot := range slotsOf(md.FullName()) {
		fd := md.Fields().ByName(slot.name)
		if fd == nil || fd.Message() == nil || !m.Has(fd) || slotWordings[md.FullName()][slot.name].unused(m) ||
			firstMatchSlots.value(md.FullName()) == slot.name {
			continue
		}
		v := m.Get(fd)
		switch {
		case fd.IsMap():
			v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				c.checkSlotValue(slotPath{msg: md.FullName(), field: slot.name, key: k.String(), i: -1}, mv.Message(), slot.cats, k.String(), false)
				return true
			})
		case fd.IsList():
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				c.checkSlotValue(slotPath{msg: md.FullName(), field: slot.name, i: i}, l.Get(i).Message(), slot.cats, "", false)
			}
		default:
			c.checkSlotValue(slotPath{msg: md.FullName(), field: slot.name, i: -1}, v.Message(), slot.cats, owner, checkedByParent)
		}
	}
}

// slotPath locates a slot value below the message being checked; it is rendered only when there is a problem.
type slotPath struct {
	msg   protoreflect.FullName // the message holding the slot
	field protoreflect.Name
	key   string // the map key, for a map field
	i     int    // the list index, or -1
	typed bool   // the value's typed_config rather than the value itself
}

func (c *Context) render(p slotPath) string {
	path := c.at(string(p.field))
	switch {
	case p.key != "":
		path += "[" + strconv.Quote(p.key) + "]"
	case p.i >= 0:
		path = index(path, p.i)
	}
	if p.typed {
		path += ".typed_config"
	}
	return path
}

// checkSlotValue checks an Any held directly in a slot, or the typed_config of a message held in the slot.
func (c *Context) checkSlotValue(at slotPath, v protoreflect.Message, cats []string, name string, skipDirectAny bool) {
	if v.Descriptor().FullName() == "google.protobuf.Any" {
		if !skipDirectAny {
			c.checkExtension(at, v, cats, name)
		}
		return
	}
	if optional(v) {
		return
	}
	fds := v.Descriptor().Fields()
	tc := fds.ByName("typed_config")
	if tc == nil || tc.Message() == nil || tc.Message().FullName() != "google.protobuf.Any" || !v.Has(tc) {
		return
	}
	if nf := fds.ByName("name"); nf != nil && nf.Kind() == protoreflect.StringKind {
		name = v.Get(nf).String()
	}
	at.typed = true
	c.checkExtension(at, v.Get(tc).Message(), cats, name)
}

func (c *Context) checkExtension(at slotPath, any protoreflect.Message, cats []string, name string) {
	typ := extensionType(any)
	info, known := extensionOf(typ)
	if !known {
		return // not an extension config Envoy's metadata lists (contrib, or newer than our table): say nothing
	}
	if narrow, ok := directionalTypes.get(typ); ok {
		info.categories = narrow
	}
	for _, cat := range info.categories {
		if slices.Contains(cats, cat) {
			return
		}
	}
	if name == "" {
		name = info.name
	}
	for _, cat := range cats {
		if since, ok := laterCategories.value(typ).get(cat); ok {
			// Only some releases of 1.35-1.40 register the factory in this category: the file loads there.
			c.envoyWarnf(c.render(at), "source/common/config/utility.h", "Didn't find a registered implementation for "+
				"'%s' with type URL: '%s' before Envoy %s: that type is registered in %s only since %s, so older "+
				"releases refuse it here", name, typ, since, cat, since)
			return
		}
	}
	if len(cats) == 1 && cats[0] == "envoy.formatter" {
		// Envoy: source/common/formatter/substitution_format_string.cc:13 [access-logs-5b026e56] (parseFormatters)
		c.envoyf(c.render(at), "source/common/formatter/substitution_format_string.cc",
			"Formatter not found: %s (type %s configures %s, not a formatter)", name, typ, info.name)
		return
	}
	source, head := "source/common/config/utility.h", fmt.Sprintf("Didn't find a registered implementation for '%s' with type URL: '%s'", name, typ)
	if w, ok := slotWordings[at.msg][at.field]; ok { // a filter that looks its extension up itself, in its own words
		source, head = w.source, fmt.Sprintf(w.format, typ)
	}
	c.envoyf(c.render(at), source, "%s: that type configures %s (%s), but this field takes %s", head, info.name,
		strings.Join(info.categories, ", "), strings.Join(cats, " or "))
}

// optional reports a message that marks its extension is_optional: Envoy looks the factory up with is_optional
// and skips the extension (or uses a null one) when it has none of that type
// (source/common/router/config_impl.cc:165, source/common/filter/config_discovery_impl.cc / filter_chain_helper.h).
func optional(m protoreflect.Message) bool {
	fd := m.Descriptor().Fields().ByName("is_optional")
	return fd != nil && fd.Kind() == protoreflect.BoolKind && !fd.IsList() && m.Get(fd).Bool()
}

// extensionType returns the config type an Any names, looking through a TypedStruct as Envoy does.
func extensionType(any protoreflect.Message) string {
	a, ok := any.Interface().(*anypb.Any)
	if !ok {
		return ""
	}
	typ := typeName(a.GetTypeUrl())
	switch typ {
	case "xds.type.v3.TypedStruct":
		ts := &xdstype.TypedStruct{}
		if proto.Unmarshal(a.GetValue(), ts) == nil {
			return typeName(ts.GetTypeUrl())
		}
	case "udpa.type.v1.TypedStruct":
		ts := &udpatype.TypedStruct{}
		if proto.Unmarshal(a.GetValue(), ts) == nil {
			return typeName(ts.GetTypeUrl())
		}
	}
	return typ
}

func typeName(url string) string { return url[strings.LastIndexByte(url, '/')+1:] }

// extensionWithoutType: a filter or access logger needs a typed_config (or config_discovery); Envoy no longer
// finds extensions by name unless envoy.reloadable_features.no_extension_lookup_by_name is turned off.
// Envoy: source/common/config/utility.h — "Didn't find a registered implementation for '<name>' with type URL: ”".
func extensionWithoutType(c *Context, m protoreflect.Message) {
	fds := m.Descriptor().Fields()
	for _, f := range []protoreflect.Name{"typed_config", "config_discovery"} {
		if fd := fds.ByName(f); fd != nil && m.Has(fd) {
			return
		}
	}
	if fd := fds.ByName("is_optional"); fd != nil && m.Get(fd).Bool() {
		return // an optional filter Envoy does not know is skipped
	}
	if !c.runtimeFlag("envoy.reloadable_features.no_extension_lookup_by_name", true) {
		return
	}
	name := m.Get(fds.ByName("name")).String()
	c.envoyf(c.Path(), "source/common/config/utility.h",
		"Didn't find a registered implementation for '%s' with type URL: '': set typed_config (with its @type)", name)
}

func hasCategory(cats []string, cat string) bool {
	for _, c := range cats {
		if c == cat {
			return true
		}
	}
	return false
}

// extensionNames is the set of every extension name of the extension table.
var extensionNames = sync.OnceValue(func() map[string]bool {
	names := make(map[string]bool, len(extensionsByType))
	for name := range extensionCategoriesByName() {
		names[name] = true
	}
	return names
})

// extensionCategoriesByName maps every extension name of the extension table to its categories.
var extensionCategoriesByName = sync.OnceValue(func() map[string][]string {
	cats := make(map[string][]string, len(extensionsByType))
	for _, info := range extensionsByType {
		cats[info.name] = append(cats[info.name], info.categories...)
	}
	return cats
})

// slotWordings give the wording of Envoy's error for an extension slot of a filter whose own file registers it
// (the filters are extensions the lean build does not link: their files fill this at init).
var slotWordings = map[protoreflect.FullName]map[protoreflect.Name]slotWording{}

// slotWording is how a filter words a failed lookup of the extension in one of its slots, and when it does not
// look at all.
type slotWording struct {
	source, format string                          // format takes the config type
	skip           func(protoreflect.Message) bool // the filter ignores the slot, given its message
}

func (w slotWording) unused(m protoreflect.Message) bool { return w.skip != nil && w.skip(m) }
