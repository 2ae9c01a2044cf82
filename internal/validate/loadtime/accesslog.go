package loadtime

import (
	"maps"
	"regexp"
	"slices"
	"strings"

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

// commandRE is Envoy's own command syntax: %COMMAND(SUBCOMMAND):LENGTH%.
var commandRE = regexp.MustCompile(`^%((?:[A-Z]|[0-9]|_)+)(?:\((.*?)\))?(?::([0-9]+))?%`)

// knownCommands are the commands Envoy's built-in command parsers accept: the stream info table
// (stream_info_formatter.cc), the HTTP table (http_specific_formatter.cc), and the commands of the formatter
// extensions that some builds treat as built in (CEL, METADATA, REQ_WITHOUT_QUERY, XFCC_VALUE), which are accepted
// whether or not the format lists them, so that no valid format is refused.
var knownCommands = setOf(
	// stream_info_formatter.cc
	"REQUEST_DURATION", "REQUEST_TX_DURATION", "RESPONSE_DURATION", "RESPONSE_TX_DURATION",
	"DOWNSTREAM_HANDSHAKE_DURATION", "ROUNDTRIP_DURATION", "BYTES_RECEIVED", "BYTES_RETRANSMITTED",
	"PACKETS_RETRANSMITTED", "UPSTREAM_WIRE_BYTES_RECEIVED", "UPSTREAM_HEADER_BYTES_RECEIVED",
	"UPSTREAM_DECOMPRESSED_HEADER_BYTES_RECEIVED", "DOWNSTREAM_WIRE_BYTES_RECEIVED", "DOWNSTREAM_HEADER_BYTES_RECEIVED",
	"DOWNSTREAM_DECOMPRESSED_HEADER_BYTES_RECEIVED", "PROTOCOL", "UPSTREAM_PROTOCOL", "RESPONSE_CODE",
	"RESPONSE_CODE_DETAILS", "CONNECTION_TERMINATION_DETAILS", "BYTES_SENT", "UPSTREAM_WIRE_BYTES_SENT",
	"UPSTREAM_HEADER_BYTES_SENT", "UPSTREAM_DECOMPRESSED_HEADER_BYTES_SENT", "DOWNSTREAM_WIRE_BYTES_SENT",
	"DOWNSTREAM_HEADER_BYTES_SENT", "DOWNSTREAM_DECOMPRESSED_HEADER_BYTES_SENT", "DURATION", "COMMON_DURATION",
	"CUSTOM_FLAGS", "RESPONSE_FLAGS", "RESPONSE_FLAGS_LONG", "UPSTREAM_HOST_NAME", "UPSTREAM_HOST_NAME_WITHOUT_PORT",
	"UPSTREAM_HOST", "UPSTREAM_CONNECTION_ID", "UPSTREAM_CLUSTER", "UPSTREAM_CLUSTER_RAW", "UPSTREAM_LOCAL_ADDRESS",
	"UPSTREAM_LOCAL_ADDRESS_WITHOUT_PORT", "UPSTREAM_LOCAL_PORT", "UPSTREAM_REMOTE_ADDRESS",
	"UPSTREAM_REMOTE_ADDRESS_WITHOUT_PORT", "UPSTREAM_REMOTE_PORT", "UPSTREAM_REQUEST_ATTEMPT_COUNT",
	"UPSTREAM_TLS_CIPHER", "UPSTREAM_TLS_VERSION", "UPSTREAM_TLS_SESSION_ID", "UPSTREAM_PEER_ISSUER",
	"UPSTREAM_PEER_CERT", "UPSTREAM_PEER_SUBJECT", "DOWNSTREAM_LOCAL_ADDRESS", "DOWNSTREAM_DIRECT_LOCAL_ADDRESS",
	"DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT", "DOWNSTREAM_DIRECT_LOCAL_ADDRESS_WITHOUT_PORT", "DOWNSTREAM_LOCAL_PORT",
	"DOWNSTREAM_DIRECT_LOCAL_PORT", "DOWNSTREAM_REMOTE_ADDRESS", "DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT",
	"DOWNSTREAM_REMOTE_PORT", "DOWNSTREAM_DIRECT_REMOTE_ADDRESS", "DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT",
	"DOWNSTREAM_DIRECT_REMOTE_PORT", "CONNECTION_ID", "REQUESTED_SERVER_NAME", "ROUTE_NAME", "UPSTREAM_PEER_URI_SAN",
	"UPSTREAM_PEER_DNS_SAN", "UPSTREAM_PEER_IP_SAN", "UPSTREAM_LOCAL_URI_SAN", "UPSTREAM_LOCAL_DNS_SAN",
	"UPSTREAM_LOCAL_IP_SAN", "DOWNSTREAM_PEER_URI_SAN", "DOWNSTREAM_PEER_DNS_SAN", "DOWNSTREAM_PEER_IP_SAN",
	"DOWNSTREAM_PEER_EMAIL_SAN", "DOWNSTREAM_PEER_OTHERNAME_SAN", "DOWNSTREAM_LOCAL_URI_SAN", "DOWNSTREAM_LOCAL_DNS_SAN",
	"DOWNSTREAM_LOCAL_IP_SAN", "DOWNSTREAM_LOCAL_EMAIL_SAN", "DOWNSTREAM_LOCAL_OTHERNAME_SAN", "DOWNSTREAM_PEER_SUBJECT",
	"DOWNSTREAM_LOCAL_SUBJECT", "DOWNSTREAM_TLS_SESSION_ID", "DOWNSTREAM_TLS_CIPHER", "DOWNSTREAM_TLS_VERSION",
	"DOWNSTREAM_PEER_FINGERPRINT_256", "DOWNSTREAM_PEER_FINGERPRINT_1", "DOWNSTREAM_PEER_SERIAL",
	"DOWNSTREAM_PEER_CHAIN_FINGERPRINTS_256", "DOWNSTREAM_PEER_CHAIN_FINGERPRINTS_1", "DOWNSTREAM_PEER_CHAIN_SERIALS",
	"DOWNSTREAM_PEER_ISSUER", "DOWNSTREAM_PEER_CERT", "DOWNSTREAM_TRANSPORT_FAILURE_REASON",
	"UPSTREAM_TRANSPORT_FAILURE_REASON", "HOSTNAME", "FILTER_CHAIN_NAME", "VIRTUAL_CLUSTER_NAME", "TLS_JA3_FINGERPRINT",
	"TLS_JA4_FINGERPRINT", "UNIQUE_ID", "STREAM_ID", "START_TIME", "START_TIME_LOCAL", "EMIT_TIME", "EMIT_TIME_LOCAL",
	"DYNAMIC_METADATA", "CLUSTER_METADATA", "UPSTREAM_METADATA", "FILTER_STATE", "UPSTREAM_FILTER_STATE",
	"DOWNSTREAM_PEER_CERT_V_START", "DOWNSTREAM_PEER_CERT_V_END", "UPSTREAM_PEER_CERT_V_START",
	"UPSTREAM_PEER_CERT_V_END", "ENVIRONMENT", "UPSTREAM_CONNECTION_POOL_READY_DURATION",
	// http_specific_formatter.cc
	"REQ", "RESP", "TRAILER", "LOCAL_REPLY_BODY", "ACCESS_LOG_TYPE", "GRPC_STATUS", "GRPC_STATUS_NUMBER",
	"REQUEST_HEADERS_BYTES", "RESPONSE_HEADERS_BYTES", "RESPONSE_TRAILERS_BYTES",
	// Commands of releases newer than the tables above, and formatter extensions some builds include by default.
	"TRACE_ID", "QUERY_PARAM", "PATH", "DOWNSTREAM_DETECTED_CLOSE_TYPE", "UPSTREAM_DETECTED_CLOSE_TYPE",
	"CEL", "METADATA", "REQ_WITHOUT_QUERY", "XFCC_VALUE",
)

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// formatString parses a substitution format string the way Envoy's parser does: "%%" is a literal percent,
// any other "%" must start a well-formed command, and the command must be known unless the format configures its
// own command parsers (formatter extensions), which may add any.
// Envoy: source/common/formatter/substitution_formatter.cc — "Incorrect configuration: <format>. Couldn't find
// valid command at position <n>", "Not supported field in StreamInfo: <command>".
func (c *Context) formatString(path func() string, format string, extensions []*corev3.TypedExtensionConfig) {
	for pos := 0; pos < len(format); {
		i := strings.IndexByte(format[pos:], '%')
		if i < 0 {
			return
		}
		pos += i
		if pos+1 < len(format) && format[pos+1] == '%' {
			pos += 2
			continue
		}
		m := commandRE.FindStringSubmatch(format[pos:])
		if m == nil {
			c.envoyf(path(), formatterSource, "Incorrect configuration: %s. Couldn't find valid command at position %d", format, pos)
			return
		}
		if !knownCommands[m[1]] && len(extensions) == 0 {
			c.envoyf(path(), formatterSource, "Not supported field in StreamInfo: %s", m[1])
			return
		}
		pos += len(m[0])
	}
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
