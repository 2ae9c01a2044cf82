package loadtime

import (
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	filev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/file/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/structpb"
)

// Access log and substitution format rules: source/common/formatter/substitution_formatter.cc and the command
// tables of stream_info_formatter.cc and http_specific_formatter.cc.

const formatterSource = "source/common/formatter/substitution_formatter.cc"

func init() {
	register("envoy.config.core.v3.SubstitutionFormatString", substitutionFormat)
	register("envoy.extensions.access_loggers.file.v3.FileAccessLog", fileAccessLogFormat)
}

// commandRE is Envoy's own command syntax: %COMMAND(SUBCOMMAND):LENGTH%. Compiled on first use (as
// timeNewlineRE): only a format string with commands needs it, and the built-in templates write none.
var commandRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^%((?:[A-Z]|[0-9]|_)+)(?:\((.*?)\))?(?::([0-9]+))?%`)
})

// formatString parses a substitution format string the way Envoy's parser does: "%%" is a literal percent,
// any other "%" must start a well-formed command, and each command must be one a built-in parser takes, used as
// that parser allows (formatter.go), unless the format configures formatter extensions of its own, whose parsers
// Envoy tries first and which may take any command.
// Envoy: source/common/formatter/substitution_formatter.cc:310 [access-logs-918228cb], :340 [access-logs-c16f526c]
// (SubstitutionFormatParser::parse) — "Incorrect configuration: <format>. Couldn't find valid command at position
// <n>", "Not supported field in StreamInfo: <command>".
// It reports whether the format parses.
func (c *Context) formatString(path func() string, format string, extensions []*corev3.TypedExtensionConfig) bool {
	custom := customFormatters(extensions)
	for pos := 0; pos < len(format); {
		i := strings.IndexByte(format[pos:], '%')
		if i < 0 {
			return true
		}
		pos += i
		if pos+1 < len(format) && format[pos+1] == '%' {
			pos += 2
			continue
		}
		m := commandRE().FindStringSubmatchIndex(format[pos:])
		if m == nil {
			c.envoyf(path(), formatterSource, "Incorrect configuration: %s. Couldn't find valid command at position %d", format, pos)
			return false
		}
		if !custom {
			cmd, sub := format[pos+m[2]:pos+m[3]], ""
			if m[4] >= 0 {
				sub = format[pos+m[4] : pos+m[5]]
			}
			if msg, src := commandProblem(cmd, sub, m[6] >= 0, 0); msg != "" && !c.filterCommand(cmd) {
				c.envoyf(path(), src, "%s (in %s)", msg, format[pos:pos+m[1]])
				return false
			}
		}
		pos += m[1]
	}
	return true
}

// filterCommands are the commands of the command parsers some filters hand to the formatters they build, which
// Envoy tries before the built-in ones, by the message whose formats they apply to.
// Envoy: source/extensions/filters/network/generic_proxy/access_log.cc (providerFuncTable),
// source/extensions/filters/udp/dns_filter/dns_filter_access_log.cc, source/extensions/filters/http/transform/
// transform.cc (BodyFormatterCommandParser).
var filterCommands = staticTable[protoreflect.FullName, staticSet[string]]{
	{"envoy.extensions.filters.network.generic_proxy.v3.GenericProxy", staticSet[string]{"METHOD", "HOST", "PATH",
		"PROTOCOL", "REQUEST_PROPERTY", "RESPONSE_PROPERTY", "GENERIC_RESPONSE_CODE"}},
	{"envoy.extensions.filters.udp.dns_filter.v3.DnsFilterConfig", staticSet[string]{"QUERY_NAME", "QUERY_TYPE",
		"QUERY_CLASS", "ANSWER_COUNT", "RESPONSE_CODE", "PARSE_STATUS"}},
	{"envoy.extensions.filters.http.transform.v3.BodyTransformation", staticSet[string]{"REQUEST_BODY", "RESPONSE_BODY"}},
}

// filterCommand reports a command that the filter around the format parses itself. Asked only for a command the
// built-in parsers refuse, so that valid formats cost nothing.
func (c *Context) filterCommand(cmd string) bool {
	for _, f := range filterCommands {
		if f.value.has(cmd) && c.Ancestor(f.key) != nil {
			return true
		}
	}
	return false
}

// customFormatters reports whether the formatter extensions include one whose commands are not known, whose
// parser Envoy tries before the built-in ones.
func customFormatters(extensions []*corev3.TypedExtensionConfig) bool {
	for _, e := range extensions {
		if !knownFormatterTypes.has(e.GetTypedConfig().GetTypeUrl()) {
			return true
		}
	}
	return false
}

// formatStruct parses every string of a JSON format.
func (c *Context) formatStruct(path func() string, st *structpb.Struct, extensions []*corev3.TypedExtensionConfig) {
	var buf [8]jsonSeg
	c.formatFields(path, buf[:0], st, extensions)
}

// jsonSeg is one step into a JSON format: a key, or an index when key is empty.
type jsonSeg struct {
	key string
	i   int
}

func (c *Context) formatFields(path func() string, segs []jsonSeg, st *structpb.Struct, extensions []*corev3.TypedExtensionConfig) {
	for _, k := range slices.Sorted(maps.Keys(st.GetFields())) {
		c.formatValue(path, append(segs, jsonSeg{key: k}), st.GetFields()[k], extensions)
	}
}

func (c *Context) formatValue(path func() string, segs []jsonSeg, v *structpb.Value, extensions []*corev3.TypedExtensionConfig) {
	if len(segs) > 32 {
		return
	}
	switch k := v.GetKind().(type) {
	case *structpb.Value_StringValue:
		if strings.Contains(k.StringValue, "%") {
			c.formatString(func() string { return jsonPath(path(), segs) }, k.StringValue, extensions)
		}
	case *structpb.Value_StructValue:
		c.formatFields(path, segs, k.StructValue, extensions)
	case *structpb.Value_ListValue:
		for i, e := range k.ListValue.GetValues() {
			c.formatValue(path, append(segs, jsonSeg{i: i}), e, extensions)
		}
	}
}

func jsonPath(path string, segs []jsonSeg) string {
	for _, s := range segs {
		if s.key != "" {
			path += "[\"" + s.key + "\"]"
		} else {
			path = index(path, s.i)
		}
	}
	return path
}

// substitutionFormat checks the format of access logs, local replies and direct responses.
func substitutionFormat(c *Context, m protoreflect.Message) {
	f, ok := m.Interface().(*corev3.SubstitutionFormatString)
	if !ok {
		return
	}
	ext := f.GetFormatters()
	switch {
	case f.GetTextFormat() != "":
		c.formatString(func() string { return c.at("text_format") }, f.GetTextFormat(), ext)
	case f.GetTextFormatSource().GetInlineString() != "":
		c.formatString(func() string { return c.at("text_format_source.inline_string") }, f.GetTextFormatSource().GetInlineString(), ext)
	case f.GetJsonFormat() != nil:
		c.formatStruct(func() string { return c.at("json_format") }, f.GetJsonFormat(), ext)
	}
}

// fileAccessLogFormat checks the file logger's legacy format fields.
func fileAccessLogFormat(c *Context, m protoreflect.Message) {
	f, ok := m.Interface().(*filev3.FileAccessLog)
	if !ok {
		return
	}
	switch {
	case f.GetFormat() != "":
		c.formatString(func() string { return c.at("format") }, f.GetFormat(), nil)
	case f.GetJsonFormat() != nil:
		c.formatStruct(func() string { return c.at("json_format") }, f.GetJsonFormat(), nil)
	case f.GetTypedJsonFormat() != nil:
		c.formatStruct(func() string { return c.at("typed_json_format") }, f.GetTypedJsonFormat(), nil)
	}
}
