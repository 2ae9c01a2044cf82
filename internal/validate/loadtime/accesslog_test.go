package loadtime_test

import "testing"

func TestAccessLogRules(t *testing.T) { runRules(t, casesAccessLogRules()) }

func casesAccessLogRules() []ruleCase {
	stdout := func(format string) string {
		return hcm("access_log: [{name: out, typed_config: {'@type': type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog, log_format: " + format + "}}]\n")
	}
	const lf = hcmPath + ".access_log[0].typed_config<StdoutAccessLog>.log_format"
	return []ruleCase{
		{"transform body command", hcm("http_filters:\n- {name: t, typed_config: {'@type': type.googleapis.com/envoy.extensions.filters.http.transform.v3.TransformConfig, " +
			"request_transformation: {body_transformation: {body_format: {json_format: {a: '%REQUEST_BODY(x)%'}}, action: MERGE}}}}\n" + routerFilter), "", ""},
		{"transform body command outside a body", stdout("{text_format: '%REQUEST_BODY(x)%'}"),
			lf + ".text_format", "Not supported field in StreamInfo: REQUEST_BODY"},
		{"text format", stdout("{text_format_source: {inline_string: \"[%START_TIME%] %REQ(:METHOD)% %RESPONSE_CODE% %%\\n\"}}"), "", ""},
		{"unknown command", stdout("{text_format_source: {inline_string: '%START_TIME% %RESPONSE_CODES%'}}"),
			lf + ".text_format_source.inline_string", "Not supported field in StreamInfo: RESPONSE_CODES"},
		{"unterminated command", stdout("{text_format_source: {inline_string: '%START_TIME'}}"),
			lf + ".text_format_source.inline_string", "Couldn't find valid command at position 0"},
		{"lower-case command", stdout("{text_format_source: {inline_string: 'x %start_time%'}}"),
			lf + ".text_format_source.inline_string", "Couldn't find valid command at position 2"},
		{"json format", stdout("{json_format: {status: '%RESPONSE_CODE%', nested: {ua: '%REQ(USER-AGENT)%'}}}"), "", ""},
		{"json format unknown", stdout("{json_format: {nested: {up: '%UPSTREAM_HOSTNAME%'}}}"),
			lf + ".json_format[\"nested\"][\"up\"]", "Not supported field in StreamInfo: UPSTREAM_HOSTNAME"},
		{"formatter extension adds commands", stdout("{text_format_source: {inline_string: '%MY_COMMAND%'}, formatters: [{name: custom, typed_config: {'@type': type.googleapis.com/google.protobuf.StringValue, value: x}}]}"), "", ""},
		{"file logger legacy format", hcm("access_log: [{name: f, typed_config: {'@type': type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog, path: /dev/stdout, format: '%BYTES_SENT %'}}]\n"),
			hcmPath + ".access_log[0].typed_config<FileAccessLog>.format", "Couldn't find valid command at position 0"},
		{"command with parameters and length", stdout("{text_format: '%REQ(X-REQUEST-ID?:AUTHORITY):10% %START_TIME(%Y-%m-%dT%H:%M:%S)% %DYNAMIC_METADATA(ns:key):5% %FILTER_STATE(k:FIELD:f)% %PATH(NQ:ORIG)% %QUERY_PARAMS(DECODED):3% %GRPC_STATUS(SNAKE_STRING)% %COMMON_DURATION(US_TX_BEG:DS_RX_END:us)% %REQUESTED_SERVER_NAME(SNI_FIRST:HOST)% %METADATA(ROUTE:ns:k)% %XFCC_VALUE(URI)% %CEL(request.path)% %UPSTREAM_HOSTS_ATTEMPTED%'}"), "", ""},
		{"command only with parameters", stdout("{text_format: '%PROTOCOL(x)%'}"), lf + ".text_format", "PROTOCOL does not take any parameters or length"},
		{"command only with length", stdout("{text_format: '%RESPONSE_CODE:3%'}"), lf + ".text_format", "RESPONSE_CODE does not take any parameters or length"},
		{"command without required parameters", stdout("{text_format: '%REQ%'}"), lf + ".text_format", "REQ requires parameters"},
		{"length not allowed", stdout("{text_format: '%START_TIME(%s):10%'}"), lf + ".text_format", "START_TIME does not allow length to be specified."},
		{"two alternative headers", stdout("{text_format: '%REQ(A?B?C)%'}"), lf + ".text_format", "More than 1 alternative header specified in token: A?B?C"},
		{"header with a space", stdout("{text_format: '%RESP(my header)%'}"), lf + ".text_format", "Format string contains invalid characters."},
		{"grpc status format", stdout("{text_format: '%GRPC_STATUS(NUMBERS)%'}"), lf + ".text_format", "GrpcStatusFormatter only supports CAMEL_STRING, SNAKE_STRING or NUMBER."},
		{"query params option", stdout("{text_format: '%QUERY_PARAMS(RAW)%'}"), lf + ".text_format", "Invalid QUERY_PARAMS option: 'RAW'"},
		{"path query option", stdout("{text_format: '%PATH(NOQUERY)%'}"), lf + ".text_format", "Invalid PATH option: 'NOQUERY', only 'WQ'/'NQ' are allowed"},
		{"path source option", stdout("{text_format: '%PATH(WQ:ORIGINAL)%'}"), lf + ".text_format", "Invalid PATH option: 'ORIGINAL', only 'ORIG'/'PATH'/'ORIG_OR_PATH' are allowed"},
		{"filter state without key", stdout("{text_format: '%FILTER_STATE%'}"), lf + ".text_format", "Invalid filter state configuration, key cannot be empty."},
		{"filter state serialization", stdout("{text_format: '%FILTER_STATE(k:JSON)%'}"), lf + ".text_format", "Invalid filter state serialize type, only support PLAIN/TYPED/FIELD."},
		{"filter state field without name", stdout("{text_format: '%UPSTREAM_FILTER_STATE(k:FIELD)%'}"), lf + ".text_format", "Invalid filter state serialize type, FIELD should be used with the field name."},
		{"common duration one point", stdout("{text_format: '%COMMON_DURATION(DS_RX_BEG)%'}"), lf + ".text_format", "Invalid common duration configuration: DS_RX_BEG."},
		{"common duration precision", stdout("{text_format: '%COMMON_DURATION(DS_RX_BEG:DS_RX_END:s)%'}"), lf + ".text_format", "Invalid common duration precision: s."},
		{"time format with newline", stdout("{text_format: '%START_TIME(%Y%n)%'}"), lf + ".text_format", "Invalid header configuration. Format string contains newline."},
		{"server name source", stdout("{text_format: '%REQUESTED_SERVER_NAME(SNI)%'}"), lf + ".text_format", "Invalid REQUESTED_SERVER_NAME option: 'SNI', only 'SNI_ONLY'/'SNI_FIRST'/'HOST_FIRST' are allowed"},
		{"server name option", stdout("{text_format: '%REQUESTED_SERVER_NAME(SNI_ONLY:AUTHORITY)%'}"), lf + ".text_format", "Invalid REQUESTED_SERVER_NAME option: 'AUTHORITY', only 'ORIG_OR_HOST'/'HOST'/'ORIG' are allowed"},
		{"metadata type", stdout("{text_format: '%METADATA(HOST:ns:k)%'}"), lf + ".text_format", "HOST is not supported type of metadata"},
		{"xfcc value without key", stdout("{text_format: '%XFCC_VALUE%'}"), lf + ".text_format", "XFCC_VALUE command requires a subcommand"},
		{"xfcc value key", stdout("{text_format: '%XFCC_VALUE(email)%'}"), lf + ".text_format", "XFCC_VALUE command does not support subcommand: email"},
		{"header value command syntax", routes("virtual_hosts: [{name: v, domains: ['*'], routes: [{match: {prefix: /}, route: {cluster: app}}], request_headers_to_add: [{header: {key: x-start, value: '%START_TIME:3%'}}]}]\n"),
			routeCfg + ".virtual_hosts[0].request_headers_to_add[0].header.value", "START_TIME does not allow length to be specified."},
		{"known formatter extension keeps the checks", stdout("{text_format: '%REQ%', formatters: [{name: envoy.formatter.metadata, typed_config: {'@type': type.googleapis.com/envoy.extensions.formatter.metadata.v3.Metadata}}]}"),
			lf + ".text_format", "REQ requires parameters"},
		{"coalesce", stdout(`{text_format: '%COALESCE({"operators": ["REQUESTED_SERVER_NAME", {"command": "REQ", "param": ":authority", "max_length": 20}]})%'}`), "", ""},
		{"coalesce not json", stdout(`{text_format: '%COALESCE({operators: [1})%'}`), lf + ".text_format", "COALESCE: failed to parse JSON configuration"},
		{"coalesce without operators", stdout(`{text_format: '%COALESCE({"ops": []})%'}`), lf + ".text_format", "COALESCE: JSON configuration must contain 'operators' array"},
		{"coalesce operators not a list", stdout(`{text_format: '%COALESCE({"operators": "REQ"})%'}`), lf + ".text_format", "COALESCE: 'operators' must be an array"},
		{"coalesce no operators", stdout(`{text_format: '%COALESCE({"operators": []})%'}`), lf + ".text_format", "COALESCE: 'operators' array must not be empty"},
		{"coalesce operator number", stdout(`{text_format: '%COALESCE({"operators": [1]})%'}`), lf + ".text_format", "COALESCE: failed to parse operator at index 0: operator entry must be either a string"},
		{"coalesce operator without command", stdout(`{text_format: '%COALESCE({"operators": [{"param": "x"}]})%'}`), lf + ".text_format", "operator object must have 'command' field"},
		{"coalesce param not a string", stdout(`{text_format: '%COALESCE({"operators": [{"command": "REQ", "param": 1}]})%'}`), lf + ".text_format", "'param' field must be a string"},
		{"coalesce length not an integer", stdout(`{text_format: '%COALESCE({"operators": [{"command": "REQ", "param": "x", "max_length": 2.5}]})%'}`), lf + ".text_format", "'max_length' field must be an integer"},
		{"coalesce length zero", stdout(`{text_format: '%COALESCE({"operators": [{"command": "REQ", "param": "x", "max_length": 0}]})%'}`), lf + ".text_format", "'max_length' must be a positive integer"},
		{"coalesce unknown command", stdout(`{text_format: '%COALESCE({"operators": ["SNI"]})%'}`), lf + ".text_format", "COALESCE: failed to parse operator at index 0: unknown command: 'SNI'"},
		{"coalesce command syntax", stdout(`{text_format: '%COALESCE({"operators": ["REQ"]})%'}`), lf + ".text_format", "COALESCE: failed to parse operator at index 0: REQ requires parameters"},
		{"formatter of another category", stdout("{text_format: '%REQ(x)%', formatters: [{name: f, typed_config: {'@type': " + routerType + "}}]}"),
			lf + ".formatters[0].typed_config", "Formatter not found: f"},
		{"local reply body format", hcm("local_reply_config: {body_format: {text_format: '%LOCAL_REPLY_BODY% %RESPONSE_CODE_DETAILS%'}}\n"), "", ""},
	}
}

func init() { registerCases(casesAccessLogRules) }
