package loadtime_test

import "testing"

func TestMetadataRules(t *testing.T) { runRules(t, casesMetadataRules()) }

func casesMetadataRules() []ruleCase {
	query := func(mutation string) string {
		return "mutations: {query_parameter_mutations: [{remove: a}, " + mutation + "]}"
	}
	const qp = ".mutations.query_parameter_mutations[1]"
	kv := "{metadata_namespace: ns, key: k, value: v}"
	j2m := func(rule string) string {
		return "request_rules: {rules: [{selectors: [{key: a}], on_present: {metadata_namespace: ns, key: k}}, " + rule + "]}"
	}
	thrift := func(rules string) string { return "request_rules: [" + rules + "]" }
	sse := func(rule string) string {
		return "response_rules: {content_parser: {name: json, typed_config: {'@type': type.googleapis.com/envoy.extensions.content_parsers.json.v3.JsonContentParser, rules: [{rule: " + rule + "}]}}}"
	}
	const sseAt = ".response_rules.content_parser.typed_config<JsonContentParser>.rules[0].rule"
	return []ruleCase{
		{"query parameter mutations", httpFilter(headerMutation, query("{append: {record: {key: b, value: '%REQ(x)%'}}}")), "", ""},
		{"query parameter append and remove", httpFilter(headerMutation, query("{append: {record: {key: b, value: c}}, remove: b}")),
			filterAt(headerMutation) + qp + ".remove", "Only one of 'append'/'remove can be specified."},
		{"query parameter append without record", perRoute("envoy.extensions.filters.http.header_mutation.v3.HeaderMutationPerRoute", query("{append: {action: APPEND_IF_EXISTS_OR_ADD}}")),
			perRouteAt("envoy.extensions.filters.http.header_mutation.v3.HeaderMutationPerRoute") + qp + ".append", "No record specified for append mutation."},
		{"query parameter number value", httpFilter(headerMutation, query("{append: {record: {key: b, value: 1}}}")),
			filterAt(headerMutation) + qp + ".append.record.value", "Only string value is allowed for record value."},
		{"query parameter empty mutation", httpFilter(headerMutation, query("{}")),
			filterAt(headerMutation) + qp, "One of 'append'/'remove' must be specified."},
		{"header to metadata", httpFilter(headerToMetadata, "request_rules: [{header: x-a, on_header_present: "+kv+"}, {cookie: c, on_header_missing: "+kv+"}]"), "", ""},
		{"header to metadata without rules", httpFilter(headerToMetadata, ""), "", ""},
		{"header to metadata header and cookie", httpFilter(headerToMetadata, "request_rules: [{header: x-a, cookie: c, on_header_present: "+kv+"}]"),
			filterAt(headerToMetadata) + ".request_rules[0].cookie", "Cannot specify both header and cookie in the same rule"},
		{"header to metadata neither header nor cookie", httpFilter(headerToMetadata, "response_rules: [{on_header_present: "+kv+"}]"),
			filterAt(headerToMetadata) + ".response_rules[0]", "One of Cookie or Header option needs to be specified"},
		{"header to metadata no action", httpFilter(headerToMetadata, "request_rules: [{header: x-a}]"),
			filterAt(headerToMetadata) + ".request_rules[0]", "header to metadata filter: rule for x-a has neither `on_header_present` nor `on_header_missing` set"},
		{"header to metadata value and rewrite", httpFilter(headerToMetadata, "request_rules: [{header: x-a, on_header_present: {key: k, value: v, regex_value_rewrite: {pattern: {regex: a}, substitution: b}}}]"),
			filterAt(headerToMetadata) + ".request_rules[0].on_header_present.regex_value_rewrite", "Cannot specify both value and regex_value_rewrite"},
		{"header to metadata remove cookie", httpFilter(headerToMetadata, "request_rules: [{cookie: c, on_header_present: "+kv+", remove: true}]"),
			filterAt(headerToMetadata) + ".request_rules[0].remove", "Cannot specify remove for cookie"},
		{"header to metadata empty missing value", httpFilter(headerToMetadata, "request_rules: [{header: x-a, on_header_missing: {key: k}}]"),
			filterAt(headerToMetadata) + ".request_rules[0].on_header_missing.value", "Cannot specify on_header_missing rule with an empty value"},
		{"header to metadata per route without rules", perRoute(headerToMetadata, ""),
			perRouteAt(headerToMetadata), "header_to_metadata_filter: Per filter configs must at least specify either request or response rules"},
		{"json to metadata", httpFilter(jsonToMetadata, j2m("{selectors: [{key: b}], on_missing: {key: k, value: x}, on_error: {key: k, value: 1}}")), "", ""},
		{"json to metadata no action", httpFilter(jsonToMetadata, j2m("{selectors: [{key: b}], on_error: {key: k, value: 1}}")),
			filterAt(jsonToMetadata) + ".request_rules.rules[1]", "json to metadata filter: neither `on_present` nor `on_missing` set"},
		{"json to metadata missing without value", httpFilter(jsonToMetadata, j2m("{selectors: [{key: b}], on_missing: {key: k}}")),
			filterAt(jsonToMetadata) + ".request_rules.rules[1].on_missing", "json to metadata filter: cannot specify on_missing rule with empty value"},
		{"json to metadata error without value", httpFilter(jsonToMetadata, j2m("{selectors: [{key: b}], on_present: {key: k}, on_error: {key: k}}")),
			filterAt(jsonToMetadata) + ".request_rules.rules[1].on_error", "json to metadata filter: cannot specify on_error rule with empty value"},
		{"json to metadata per route without rules", perRoute(jsonToMetadata, ""),
			perRouteAt(jsonToMetadata), "json_to_metadata_filter: Per route configs must at least specify one of request_rules or response_rules."},
		{"json content parser", httpFilter(sseToMetadata, sse("{selectors: [{key: a}], on_present: {key: k}, on_missing: {key: k, value: 0}}")), "", ""},
		{"json content parser empty struct value", httpFilter(sseToMetadata, sse("{selectors: [{key: a}], on_present: {key: k, value: {}}}")), "", ""},
		{"json content parser no action", httpFilter(sseToMetadata, sse("{selectors: [{key: a}]}")),
			filterAt(sseToMetadata) + sseAt, "At least one of on_present, on_missing, or on_error must be specified"},
		{"thrift to metadata", httpFilter(thriftToMetadata, thrift("{field: METHOD_NAME, on_present: {key: k}, on_missing: {key: k, value: unknown}}")), "", ""},
		{"thrift to metadata no action", httpFilter(thriftToMetadata, thrift("{field: METHOD_NAME}")),
			filterAt(thriftToMetadata) + ".request_rules[0]", "thrift to metadata filter: neither `on_present` nor `on_missing` set"},
		{"thrift to metadata missing without value", httpFilter(thriftToMetadata, thrift("{field: METHOD_NAME, on_missing: {key: k}}")),
			filterAt(thriftToMetadata) + ".request_rules[0].on_missing", "thrift to metadata filter: cannot specify on_missing rule with empty value"},
		{"thrift to metadata without rules", httpFilter(thriftToMetadata, "protocol: BINARY"),
			filterAt(thriftToMetadata), "thrift_to_metadata filter: Per filter configs must at least specify either request or response rules"},
		{"thrift to metadata twitter", httpFilter(thriftToMetadata, thrift("{field: METHOD_NAME, on_present: {key: k}}")+", protocol: TWITTER"),
			filterAt(thriftToMetadata) + ".protocol", "thrift_to_metadata filter: Protocol TWITTER is not supported"},
	}
}

func init() { registerCases(casesMetadataRules) }
