package loadtime

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"
)

// Substitution format commands: what Envoy's built-in command parsers check when they parse a command of a format
// string at load (access logs, local replies, direct responses, header values...). Each check returns Envoy's
// message and the file that raises it, or "" when the command parses.

const (
	syntaxSource     = "source/common/formatter/substitution_format_utility.cc"
	streamInfoSource = "source/common/formatter/stream_info_formatter.cc"
	httpFormatSource = "source/common/formatter/http_specific_formatter.cc"
	coalesceSource   = "source/common/formatter/coalesce_formatter.cc"
)

// commandProblem checks one command of a format: known, with the syntax its parser takes, and arguments the
// parser accepts. hasLen says whether the command carries ":LENGTH"; length is its value.
func commandProblem(cmd, sub string, hasLen bool, depth int) (msg, source string) {
	if extensionCommands.has(cmd) {
		return extensionCommandProblem(cmd, sub)
	}
	syntax, ok := builtInCommands()[cmd]
	if !ok {
		return "Not supported field in StreamInfo: " + cmd, formatterSource
	}
	if msg := verifySyntax(syntax, cmd, sub, hasLen); msg != "" {
		return msg, syntaxSource
	}
	return commandArgsProblem(cmd, sub, depth)
}

// verifySyntax mirrors CommandSyntaxChecker::verifySyntax.
// Envoy: source/common/formatter/substitution_format_utility.cc:22 [access-logs-0fd1865b], :27 [access-logs-bf1577a8],
// :31 [access-logs-b4ccf817] — "<c> does not take any parameters or length", "<c> requires parameters", "<c> does
// not allow length to be specified."
func verifySyntax(syntax commandSyntax, cmd, sub string, hasLen bool) string {
	switch {
	case syntax == commandOnly && (sub != "" || hasLen):
		return cmd + " does not take any parameters or length"
	case syntax&paramsRequired != 0 && sub == "":
		return cmd + " requires parameters"
	case syntax&lengthAllowed == 0 && hasLen:
		return cmd + " does not allow length to be specified."
	}
	return ""
}

// timeNewlineRE is Envoy's pattern for a strftime conversion that writes a newline.
var timeNewlineRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`%[-_0^#]*[1-9]*(E|O)?n`) })

// commandArgsProblem checks the arguments of the built-in commands whose parsers look at them.
func commandArgsProblem(cmd, sub string, depth int) (msg, source string) {
	first, second, third := splitSubcommand(sub)
	switch cmd {
	case "REQ", "REQUEST_HEADER", "RESP", "RESPONSE_HEADER", "TRAILER", "RESPONSE_TRAILER", "STREAM_INFO_REQ":
		return headerSubcommandProblem(sub), syntaxSource
	case "GRPC_STATUS":
		// Envoy: source/common/formatter/http_specific_formatter.cc:199 [access-logs-34728ba5] (GrpcStatusFormatter::parseFormat)
		if !oneOf(sub, "", "CAMEL_STRING", "SNAKE_STRING", "NUMBER") {
			return "GrpcStatusFormatter only supports CAMEL_STRING, SNAKE_STRING or NUMBER.", httpFormatSource
		}
	case "QUERY_PARAMS":
		// Envoy: source/common/formatter/http_specific_formatter.cc:315 [access-logs-869f8ac9] (parseDecodeOption)
		if !oneOf(sub, "", "ORIG", "DECODED") {
			return fmt.Sprintf("Invalid QUERY_PARAMS option: '%s', only 'ORIG'/'DECODED' are allowed", sub), httpFormatSource
		}
	case "PATH":
		// Envoy: source/common/formatter/http_specific_formatter.cc:410 [access-logs-dee8e033], :423
		// [access-logs-e2164478] (PathFormatter::create)
		if !oneOf(first, "", "WQ", "NQ") {
			return fmt.Sprintf("Invalid PATH option: '%s', only 'WQ'/'NQ' are allowed", first), httpFormatSource
		}
		if !oneOf(second, "", "ORIG", "PATH", "ORIG_OR_PATH") {
			return fmt.Sprintf("Invalid PATH option: '%s', only 'ORIG'/'PATH'/'ORIG_OR_PATH' are allowed", second), httpFormatSource
		}
	case "REQUESTED_SERVER_NAME":
		// Envoy: source/common/formatter/stream_info_formatter.cc:668 [access-logs-fdfaf258], :682 [access-logs-4a0a2e03]
		if !oneOf(first, "", "SNI_ONLY", "SNI_FIRST", "HOST_FIRST") {
			return fmt.Sprintf("Invalid REQUESTED_SERVER_NAME option: '%s', only 'SNI_ONLY'/'SNI_FIRST'/'HOST_FIRST' are allowed", first), streamInfoSource
		}
		if !oneOf(second, "", "ORIG_OR_HOST", "HOST", "ORIG") {
			return fmt.Sprintf("Invalid REQUESTED_SERVER_NAME option: '%s', only 'ORIG_OR_HOST'/'HOST'/'ORIG' are allowed", second), streamInfoSource
		}
	case "FILTER_STATE", "UPSTREAM_FILTER_STATE":
		// Envoy: source/common/formatter/stream_info_formatter.cc:205 [access-logs-c76c8554], :213
		// [access-logs-147540e4], :217 [access-logs-ded9d481] (FilterStateFormatter::create)
		switch {
		case first == "":
			return "Invalid filter state configuration, key cannot be empty.", streamInfoSource
		case !oneOf(second, "", "PLAIN", "TYPED", "FIELD"):
			return "Invalid filter state serialize type, only support PLAIN/TYPED/FIELD.", streamInfoSource
		case (second == "FIELD") != (third != ""):
			return "Invalid filter state serialize type, FIELD should be used with the field name.", streamInfoSource
		}
	case "COMMON_DURATION":
		// Envoy: source/common/formatter/stream_info_formatter.cc:479 [access-logs-f8e5e63e], :497
		// [access-logs-d8b13239] (CommonDurationFormatter::create)
		parts := strings.Split(sub, ":")
		if len(parts) < 2 || len(parts) > 3 {
			return fmt.Sprintf("Invalid common duration configuration: %s. (START:END or START:END:PRECISION)", sub), streamInfoSource
		}
		if len(parts) == 3 && !oneOf(parts[2], "ms", "us", "ns") {
			return fmt.Sprintf("Invalid common duration precision: %s. (ms, us or ns)", parts[2]), streamInfoSource
		}
	case "START_TIME", "START_TIME_LOCAL", "EMIT_TIME", "EMIT_TIME_LOCAL", "DOWNSTREAM_PEER_CERT_V_START",
		"DOWNSTREAM_PEER_CERT_V_END", "UPSTREAM_PEER_CERT_V_START", "UPSTREAM_PEER_CERT_V_END":
		// Envoy: source/common/formatter/stream_info_formatter.cc:611 [access-logs-54942931] (SystemTimeFormatter)
		if timeNewlineRE().MatchString(sub) {
			return "Invalid header configuration. Format string contains newline.", streamInfoSource
		}
	case "COALESCE":
		return coalesceProblem(sub, depth)
	}
	return "", ""
}

// splitSubcommand returns the first three ':'-separated tokens of a subcommand, as parseSubcommand assigns them.
func splitSubcommand(sub string) (first, second, third string) {
	first, rest, ok := strings.Cut(sub, ":")
	if ok {
		second, rest, ok = strings.Cut(rest, ":")
		if ok {
			third, _, _ = strings.Cut(rest, ":")
		}
	}
	return first, second, third
}

func oneOf(s string, allowed ...string) bool {
	for _, a := range allowed {
		if s == a {
			return true
		}
	}
	return false
}

// headerSubcommandProblem: a header command names one header and at most one alternative, each a valid header
// name (a token, optionally after one ':').
// Envoy: source/common/formatter/substitution_format_utility.cc:105 [access-logs-932d5bef], :113
// [access-logs-06a81ba6] (parseSubcommandHeaders) — "More than 1 alternative header specified in token: <t>",
// "Invalid header configuration. Format string contains invalid characters."
func headerSubcommandProblem(sub string) string {
	main, alt, _ := strings.Cut(sub, "?")
	if strings.Contains(alt, "?") {
		return "More than 1 alternative header specified in token: " + sub
	}
	if !headerNameValid(main) || !headerNameValid(alt) {
		return "Invalid header configuration. Format string contains invalid characters. (" + sub + ")"
	}
	return ""
}

// headerNameValid mirrors Http::HeaderUtility::headerNameIsValid: RFC 7230 token characters, after an optional
// leading ':' that must not stand alone.
func headerNameValid(name string) bool {
	if strings.HasPrefix(name, ":") {
		name = name[1:]
		if name == "" {
			return false
		}
	}
	for i := 0; i < len(name); i++ {
		if !isTokenChar(name[i]) {
			return false
		}
	}
	return true
}

// isTokenChar reports an RFC 7230 tchar (command names of formats, the CDN-Loop header's tokens).
func isTokenChar(b byte) bool {
	switch {
	case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0
}

// extensionCommandProblem checks the commands of the built-in formatter extensions.
// Envoy: source/extensions/formatter/metadata/metadata.cc:153 [access-logs-4fe34879] — "<t> is not supported type of
// metadata"; source/extensions/formatter/xfcc_value/xfcc_value.cc:228 [access-logs-7658f2c1], :231
// [access-logs-32adb9c0] — "XFCC_VALUE command requires a subcommand", "XFCC_VALUE command does not support
// subcommand: <s>".
func extensionCommandProblem(cmd, sub string) (msg, source string) {
	switch cmd {
	case "METADATA":
		typ, _, _ := strings.Cut(sub, ":")
		if !oneOf(typ, "DYNAMIC", "CLUSTER", "ROUTE", "UPSTREAM_HOST", "LISTENER", "LISTENER_FILTER_CHAIN", "VIRTUAL_HOST") {
			return typ + " is not supported type of metadata (DYNAMIC, CLUSTER, ROUTE, UPSTREAM_HOST, LISTENER, " +
				"LISTENER_FILTER_CHAIN or VIRTUAL_HOST)", "source/extensions/formatter/metadata/metadata.cc"
		}
	case "XFCC_VALUE":
		const src = "source/extensions/formatter/xfcc_value/xfcc_value.cc"
		if sub == "" {
			return "XFCC_VALUE command requires a subcommand", src
		}
		if key := strings.ToLower(sub); !oneOf(key, "by", "hash", "cert", "chain", "subject", "uri", "dns") {
			return "XFCC_VALUE command does not support subcommand: " + key + " (by, hash, cert, chain, subject, uri or dns)", src
		}
	}
	return "", ""
}

// coalesceOperator is one entry of COALESCE's operators: a command name, or an object.
type coalesceOperator struct {
	Command   *json.RawMessage `json:"command"`
	Param     *json.RawMessage `json:"param"`
	MaxLength *json.RawMessage `json:"max_length"`
}

// coalesceProblem checks COALESCE's JSON configuration and the commands it names, which the built-in parsers
// must know.
// Envoy: source/common/formatter/coalesce_formatter.cc:17 [access-logs-ab03acdc], :24 [access-logs-424d870d], :30
// [access-logs-eed87bcf], :36 [access-logs-2f179bf2], :46 [access-logs-fdac17f0], :66 [access-logs-90650dc5], :72
// [access-logs-ea04d54d], :80 [access-logs-d7627743], :90 [access-logs-f35c70b7], :94 [access-logs-a6be8948], :113
// [access-logs-79a25a99].
func coalesceProblem(sub string, depth int) (msg, source string) {
	var cfg map[string]json.RawMessage
	if err := json.Unmarshal([]byte(sub), &cfg); err != nil {
		var any any
		if json.Unmarshal([]byte(sub), &any) != nil {
			return "COALESCE: failed to parse JSON configuration: " + err.Error(), coalesceSource
		}
		return "COALESCE: JSON configuration must contain 'operators' array", coalesceSource
	}
	raw, ok := cfg["operators"]
	if !ok {
		return "COALESCE: JSON configuration must contain 'operators' array", coalesceSource
	}
	var ops []json.RawMessage
	if json.Unmarshal(raw, &ops) != nil || ops == nil {
		// Envoy: source/common/json/json_internal.cc:506 [core-07ca28dc] (Field::getObjectArray)
		return "COALESCE: 'operators' must be an array: key 'operators' missing or not an array from lines 1-1", coalesceSource
	}
	if len(ops) == 0 {
		return "COALESCE: 'operators' array must not be empty", coalesceSource
	}
	for i, op := range ops {
		if m, src := coalesceOperatorProblem(op, depth); m != "" {
			return fmt.Sprintf("COALESCE: failed to parse operator at index %d: %s", i, m), src
		}
	}
	return "", ""
}

func coalesceOperatorProblem(op json.RawMessage, depth int) (msg, source string) {
	var name string
	if json.Unmarshal(op, &name) == nil {
		return coalesceCommandProblem(name, "", false, depth)
	}
	var o coalesceOperator
	if bytes.HasPrefix(bytes.TrimSpace(op), []byte("{")) && json.Unmarshal(op, &o) == nil {
		// Envoy: source/common/json/json_internal.cc:522 [core-f9f068f8] (Field::getString), :463 [core-ed3b6f4f]
		// (Field::getInteger): the messages COALESCE wraps (a format string's JSON is on one line).
		if o.Command == nil || json.Unmarshal(*o.Command, &name) != nil {
			return "operator object must have 'command' field: key 'command' missing or not a string from lines 1-1", coalesceSource
		}
		var param string
		if o.Param != nil && json.Unmarshal(*o.Param, &param) != nil {
			return "'param' field must be a string: key 'param' missing or not a string from lines 1-1", coalesceSource
		}
		if o.MaxLength != nil {
			n, err := json.Number(strings.TrimSpace(string(*o.MaxLength))).Int64()
			if err != nil {
				return "'max_length' field must be an integer: key 'max_length' missing or not an integer from lines 1-1", coalesceSource
			}
			if n <= 0 {
				return "'max_length' must be a positive integer", coalesceSource
			}
		}
		return coalesceCommandProblem(name, param, o.MaxLength != nil, depth)
	}
	return "operator entry must be either a string (command name) or an object with 'command' field", coalesceSource
}

// coalesceCommandProblem: an operator's command must be one a built-in parser takes, used as the parser allows.
func coalesceCommandProblem(cmd, param string, hasLen bool, depth int) (msg, source string) {
	_, builtIn := builtInCommands()[cmd]
	if !builtIn && !extensionCommands.has(cmd) {
		return fmt.Sprintf("unknown command: '%s'", cmd), coalesceSource
	}
	if depth > 8 {
		return "", ""
	}
	return commandProblem(cmd, param, hasLen, depth+1)
}
