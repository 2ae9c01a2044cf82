//go:build !appnet_lean

package loadtime

import (
	thriftproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/thrift_proxy/v3"

	jsonparserv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/content_parsers/json/v3"
	headermutationv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/header_mutation/v3"
	headertometadatav3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/header_to_metadata/v3"
	jsontometadatav3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/json_to_metadata/v3"
	thrifttometadatav3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/thrift_to_metadata/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/structpb"
)

// Filters that rewrite requests or turn request data into metadata: header_mutation, header_to_metadata,
// json_to_metadata (and the JSON content parser of sse_to_metadata and aws_eventstream_parser), thrift_to_metadata.
// Each builds its rules with the filter (and per-route) config at load.

const (
	headerMutationSource   = "source/extensions/filters/http/header_mutation/header_mutation.cc"
	headerToMetadataSource = "source/extensions/filters/http/header_to_metadata/header_to_metadata_filter.cc"
	jsonToMetadataSource   = "source/extensions/filters/http/json_to_metadata/filter.cc"
	jsonParserSource       = "source/extensions/content_parsers/json/config.cc"
	thriftToMetadataSource = "source/extensions/filters/http/thrift_to_metadata/filter.cc"
)

func init() {
	register("envoy.extensions.filters.http.header_mutation.v3.Mutations", queryParameterMutations)
	register("envoy.extensions.filters.http.header_to_metadata.v3.Config", headerToMetadataRules)
	register("envoy.extensions.filters.http.json_to_metadata.v3.JsonToMetadata", jsonToMetadataRules)
	register("envoy.extensions.content_parsers.json.v3.JsonContentParser", jsonContentParserRules)
	register("envoy.extensions.filters.http.thrift_to_metadata.v3.ThriftToMetadata", thriftToMetadataRules)
}

// queryParameterMutations: a query parameter mutation appends a record with a string value, or removes a
// parameter; not both, not neither.
// Envoy: source/extensions/filters/http/header_mutation/header_mutation.cc:81, :86, :91, :106
// [http-filters-5f676cb5] [http-filters-3605fee3] [http-filters-826ef07a] [http-filters-d4040d34] — "Only one of
// 'append'/'remove can be specified.", "No record specified for append mutation.", "Only string value is allowed
// for record value.", "One of 'append'/'remove' must be specified.".
func queryParameterMutations(c *Context, m protoreflect.Message) {
	mu, ok := m.Interface().(*headermutationv3.Mutations)
	if !ok {
		return
	}
	for i, q := range mu.GetQueryParameterMutations() {
		at := func(field string) string { return index(c.at("query_parameter_mutations"), i) + field }
		a := q.GetAppend()
		switch {
		case a != nil && q.GetRemove() != "":
			c.envoyf(at(".remove"), headerMutationSource, "Only one of 'append'/'remove can be specified.")
		case a != nil && a.GetRecord() == nil:
			c.envoyf(at(".append"), headerMutationSource, "No record specified for append mutation.")
		case a != nil && !isString(a.GetRecord().GetValue()):
			c.envoyf(at(".append.record.value"), headerMutationSource, "Only string value is allowed for record value.")
		case a == nil && q.GetRemove() == "":
			c.envoyf(at(""), headerMutationSource, "One of 'append'/'remove' must be specified.")
		default:
			continue
		}
		return // Envoy stops at the first bad mutation
	}
}

// headerToMetadataRules: each rule reads a header or a cookie (not both; a cookie is not removed), sets metadata
// when the header is present or missing, with a value or a regex rewrite (not both), and a non-empty value when it
// is missing; a per-route config has rules.
// Envoy: source/extensions/filters/http/header_to_metadata/header_to_metadata_filter.cc:57, :69, :76, :87, :93,
// :99, :143 [http-filters-e5d35bc8] [http-filters-13a4f5bb] [http-filters-39e13c2e] [http-filters-4d3b067d]
// [http-filters-769ca250] [http-filters-39a19864] [http-filters-1a549ced] — "Cannot specify both header and cookie
// in the same rule", "One of Cookie or Header option needs to be specified", "header to metadata filter: rule for
// <header> has neither `on_header_present` nor `on_header_missing` set", "Cannot specify both value and
// regex_value_rewrite", "Cannot specify remove for cookie", "Cannot specify on_header_missing rule with an empty
// value", "header_to_metadata_filter: Per filter configs must at least specify either request or response rules".
func headerToMetadataRules(c *Context, m protoreflect.Message) {
	h, ok := m.Interface().(*headertometadatav3.Config)
	if !ok {
		return
	}
	for _, list := range []struct {
		field string
		rules []*headertometadatav3.Config_Rule
	}{{"request_rules", h.GetRequestRules()}, {"response_rules", h.GetResponseRules()}} {
		for i, r := range list.rules {
			at := func(field string) string { return index(c.at(list.field), i) + field }
			problem, field := "", ""
			switch {
			case r.GetCookie() != "" && r.GetHeader() != "":
				problem, field = "Cannot specify both header and cookie in the same rule", ".cookie"
			case r.GetCookie() == "" && r.GetHeader() == "":
				problem = "One of Cookie or Header option needs to be specified"
			case r.GetOnHeaderPresent() == nil && r.GetOnHeaderMissing() == nil:
				problem = "header to metadata filter: rule for " + headerOrCookie(r) + " has neither `on_header_present` nor `on_header_missing` set"
			case r.GetOnHeaderPresent().GetValue() != "" && r.GetOnHeaderPresent().GetRegexValueRewrite() != nil:
				problem, field = "Cannot specify both value and regex_value_rewrite", ".on_header_present.regex_value_rewrite"
			case r.GetCookie() != "" && r.GetRemove():
				problem, field = "Cannot specify remove for cookie", ".remove"
			case r.GetOnHeaderMissing() != nil && r.GetOnHeaderMissing().GetValue() == "":
				problem, field = "Cannot specify on_header_missing rule with an empty value", ".on_header_missing.value"
			default:
				continue
			}
			c.envoyf(at(field), headerToMetadataSource, "%s", problem)
			return // Envoy stops at the first bad rule
		}
	}
	if len(h.GetRequestRules()) == 0 && len(h.GetResponseRules()) == 0 && c.perRouteConfig() {
		c.envoyf(c.Path(), headerToMetadataSource, "header_to_metadata_filter: Per filter configs must at least specify "+
			"either request or response rules")
	}
}

func isString(v *structpb.Value) bool {
	_, ok := v.GetKind().(*structpb.Value_StringValue)
	return ok
}

// headerOrCookie names a rule's source as Envoy's selectors print it.
func headerOrCookie(r *headertometadatav3.Config_Rule) string {
	if r.GetHeader() != "" {
		return r.GetHeader()
	}
	return "cookie '" + r.GetCookie() + "'"
}

// jsonToMetadataRules: each rule sets metadata when the key is present or missing, and a value when it is missing
// or in error; a per-route config has rules.
// Envoy: source/extensions/filters/http/json_to_metadata/filter.cc:93, :97, :102, :147 [http-filters-more-69247cf3]
// [http-filters-more-95c8b3ea] [http-filters-more-0f90fbd6] [http-filters-more-2cab858f] — "json to metadata
// filter: neither `on_present` nor `on_missing` set", "json to metadata filter: cannot specify on_missing rule with
// empty value", "json to metadata filter: cannot specify on_error rule with empty value", "json_to_metadata_filter:
// Per route configs must at least specify one of request_rules or response_rules.".
func jsonToMetadataRules(c *Context, m protoreflect.Message) {
	j, ok := m.Interface().(*jsontometadatav3.JsonToMetadata)
	if !ok {
		return
	}
	for _, list := range []struct {
		field string
		rules []*jsontometadatav3.JsonToMetadata_Rule
	}{{"request_rules", j.GetRequestRules().GetRules()}, {"response_rules", j.GetResponseRules().GetRules()}} {
		for i, r := range list.rules {
			at := func(field string) string { return index(c.at(list.field+".rules"), i) + field }
			switch {
			case r.GetOnPresent() == nil && r.GetOnMissing() == nil:
				c.envoyf(at(""), jsonToMetadataSource, "json to metadata filter: neither `on_present` nor `on_missing` set")
			case r.GetOnMissing() != nil && r.GetOnMissing().GetValue() == nil:
				c.envoyf(at(".on_missing"), jsonToMetadataSource, "json to metadata filter: cannot specify on_missing rule with empty value")
			case r.GetOnError() != nil && r.GetOnError().GetValue() == nil:
				c.envoyf(at(".on_error"), jsonToMetadataSource, "json to metadata filter: cannot specify on_error rule with empty value")
			default:
				continue
			}
			return
		}
	}
	if len(j.GetRequestRules().GetRules()) == 0 && len(j.GetResponseRules().GetRules()) == 0 && c.perRouteConfig() {
		c.envoyf(c.Path(), jsonToMetadataSource, "json_to_metadata_filter: Per route configs must at least specify one of "+
			"request_rules or response_rules.")
	}
}

// jsonContentParserRules: each rule of the JSON content parser sets metadata on present, missing or error. (Its
// other check, an explicit value without a kind, cannot arise from YAML or JSON: {} is an empty struct and null a
// null value.)
// Envoy: source/extensions/content_parsers/json/config.cc:50 [http-filters-more-65981bbf] — "At least one of
// on_present, on_missing, or on_error must be specified".
func jsonContentParserRules(c *Context, m protoreflect.Message) {
	p, ok := m.Interface().(*jsonparserv3.JsonContentParser)
	if !ok {
		return
	}
	for i, rc := range p.GetRules() {
		if r := rc.GetRule(); r.GetOnPresent() == nil && r.GetOnMissing() == nil && r.GetOnError() == nil {
			c.envoyf(index(c.at("rules"), i)+".rule", jsonParserSource, "At least one of on_present, on_missing, or on_error must be specified")
			return
		}
	}
}

// thriftToMetadataRules: each rule sets metadata when the field is present or missing, with a value when it is
// missing; the filter has rules, and reads a protocol other than Twitter's.
// Envoy: source/extensions/filters/http/thrift_to_metadata/filter.cc:17, :21, :134, :139
// [http-filters-more-4e6257f1] [http-filters-more-4326cb93] [http-filters-more-bafda5cf]
// [http-filters-more-6f750175] — "thrift to metadata filter: neither `on_present` nor `on_missing` set", "thrift to
// metadata filter: cannot specify on_missing rule with empty value", "thrift_to_metadata filter: Per filter configs
// must at least specify either request or response rules", "thrift_to_metadata filter: Protocol TWITTER is not
// supported".
func thriftToMetadataRules(c *Context, m protoreflect.Message) {
	t, ok := m.Interface().(*thrifttometadatav3.ThriftToMetadata)
	if !ok {
		return
	}
	for _, list := range []struct {
		field string
		rules []*thrifttometadatav3.Rule
	}{{"request_rules", t.GetRequestRules()}, {"response_rules", t.GetResponseRules()}} {
		for i, r := range list.rules {
			at := func(field string) string { return index(c.at(list.field), i) + field }
			switch {
			case r.GetOnPresent() == nil && r.GetOnMissing() == nil:
				c.envoyf(at(""), thriftToMetadataSource, "thrift to metadata filter: neither `on_present` nor `on_missing` set")
				return
			case r.GetOnMissing() != nil && r.GetOnMissing().GetValue() == nil:
				c.envoyf(at(".on_missing"), thriftToMetadataSource, "thrift to metadata filter: cannot specify on_missing rule with empty value")
				return
			}
		}
	}
	if len(t.GetRequestRules()) == 0 && len(t.GetResponseRules()) == 0 {
		c.envoyf(c.Path(), thriftToMetadataSource, "thrift_to_metadata filter: Per filter configs must at least specify "+
			"either request or response rules")
	}
	if t.GetProtocol() == thriftproxyv3.ProtocolType_TWITTER {
		c.envoyf(c.at("protocol"), thriftToMetadataSource, "thrift_to_metadata filter: Protocol TWITTER is not supported")
	}
}
