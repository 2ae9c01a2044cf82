package loadtime

import (
	"strings"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/structpb"
)

// Bootstrap rules: source/server/configuration_impl.cc (MainImpl).

func init() {
	register("envoy.config.bootstrap.v3.Bootstrap", bootstrapWatchdogs, bootstrapStatsFlush, bootstrapInlineHeaders, bootstrapJSONLogFormat)
}

// bootstrapStatsFlush: stats are flushed on a timer or on admin requests, and evicted every whole number of
// flushes.
// Envoy: source/server/configuration_impl.cc:91 [bootstrap-68040c94], :105 [bootstrap-4e9a6acb] (StatsConfigImpl)
// — "Only one of stats_flush_interval or stats_flush_on_admin should be set!", "stats_eviction_interval must be a
// multiple of stats_flush_interval".
func bootstrapStatsFlush(c *Context, m protoreflect.Message) {
	b, ok := m.Interface().(*bootstrapv3.Bootstrap)
	if !ok {
		return
	}
	const src = "source/server/configuration_impl.cc"
	if b.GetStatsFlushInterval() != nil && b.GetStatsFlush() != nil {
		c.envoyf(c.at("stats_flush_on_admin"), src, "Only one of stats_flush_interval or stats_flush_on_admin should be set!")
		return
	}
	flush := uint64(5000)
	if d := b.GetStatsFlushInterval(); d != nil {
		flush = durationMillis(d)
	}
	if d := b.GetStatsEvictionInterval(); d != nil && flush > 0 {
		if evict := durationMillis(d); evict%flush != 0 {
			c.envoyf(c.at("stats_eviction_interval"), src, "stats_eviction_interval must be a multiple of stats_flush_interval (%d ms is not a multiple of %d ms)", evict, flush)
		}
	}
}

// bootstrapInlineHeaders: set-cookie cannot be an inline header.
// Envoy: source/server/server.cc:334 [bootstrap-fb5061cf] (registerCustomInlineHeadersFromBootstrap) — "Header <h>
// cannot be registered as an inline header."
func bootstrapInlineHeaders(c *Context, m protoreflect.Message) {
	b, ok := m.Interface().(*bootstrapv3.Bootstrap)
	if !ok {
		return
	}
	for i, h := range b.GetInlineHeaders() {
		if strings.EqualFold(h.GetInlineHeaderName(), "set-cookie") {
			c.envoyf(index(c.at("inline_headers"), i)+".inline_header_name", "source/server/server.cc",
				"Header %s cannot be registered as an inline header.", h.GetInlineHeaderName())
		}
	}
}

// bootstrapJSONLogFormat: Envoy's JSON application log format cannot use the %v and %_ flags (the whole message,
// and the message without tags), which would break the JSON.
// Envoy: source/common/common/logger.cc:258 [core-c24241d6], :262 [core-6699f720] (Registry::setJsonLogFormat),
// source/server/utils.cc:49 [bootstrap-fc45fa55] — "setJsonLogFormat error: Usage of %v is unavailable for JSON log
// formats".
func bootstrapJSONLogFormat(c *Context, m protoreflect.Message) {
	b, ok := m.Interface().(*bootstrapv3.Bootstrap)
	if !ok || b.GetApplicationLogConfig().GetLogFormat().GetJsonFormat() == nil {
		return
	}
	for _, flag := range []string{"%v", "%_"} {
		if structContains(b.GetApplicationLogConfig().GetLogFormat().GetJsonFormat(), flag, 0) {
			c.envoyf(c.at("application_log_config.log_format.json_format"), "source/common/common/logger.cc",
				"setJsonLogFormat error: Usage of %s is unavailable for JSON log formats (use %%j for the message)", flag)
			return
		}
	}
}

// structContains reports whether a key or string value of a Struct contains s.
func structContains(st *structpb.Struct, s string, depth int) bool {
	for k, v := range st.GetFields() {
		if strings.Contains(k, s) || valueContains(v, s, depth) {
			return true
		}
	}
	return false
}

func valueContains(v *structpb.Value, s string, depth int) bool {
	if depth > 32 {
		return false
	}
	switch k := v.GetKind().(type) {
	case *structpb.Value_StringValue:
		return strings.Contains(k.StringValue, s)
	case *structpb.Value_StructValue:
		return structContains(k.StructValue, s, depth+1)
	case *structpb.Value_ListValue:
		for _, e := range k.ListValue.GetValues() {
			if valueContains(e, s, depth+1) {
				return true
			}
		}
	}
	return false
}

// bootstrapWatchdogs: the deprecated single watchdog and the per-thread watchdogs are alternatives.
// Envoy: source/server/configuration_impl.cc — "Only one of watchdog or watchdogs should be set!"
func bootstrapWatchdogs(c *Context, m protoreflect.Message) {
	if b, ok := m.Interface().(*bootstrapv3.Bootstrap); ok && b.GetWatchdog() != nil && b.GetWatchdogs() != nil {
		c.envoyf(c.at("watchdogs"), "source/server/configuration_impl.cc", "Only one of watchdog or watchdogs should be set!")
	}
}
