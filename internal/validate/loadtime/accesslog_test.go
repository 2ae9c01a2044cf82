package loadtime_test

import "testing"

func TestAccessLogRules(t *testing.T) { runRules(t, casesAccessLogRules()) }

func casesAccessLogRules() []ruleCase {
	stdout := func(format string) string {
		return hcm("access_log: [{name: out, typed_config: {'@type': type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog, log_format: " + format + "}}]\n")
	}
	const lf = hcmPath + ".access_log[0].typed_config<StdoutAccessLog>.log_format"
	return []ruleCase{
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
		{"local reply body format", hcm("local_reply_config: {body_format: {text_format: '%LOCAL_REPLY_BODY% %RESPONSE_CODE_DETAILS%'}}\n"), "", ""},
	}
}

func init() { registerCases(casesAccessLogRules) }
