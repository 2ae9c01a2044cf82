//go:build !appnet_lean

package loadtime

import (
	tapconfigv3 "github.com/envoyproxy/go-control-plane/envoy/config/tap/v3"
	tapv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/common/tap/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Tap (source/extensions/common/tap): the HTTP tap filter and the tap transport socket install a static tap
// config when they are built at load; an admin config waits for an admin request, which brings its own sink.

const (
	tapExtensionSource = "source/extensions/common/tap/extension_config_base.cc"
	tapConfigSource    = "source/extensions/common/tap/tap_config_base.cc"
)

func init() {
	register("envoy.extensions.common.tap.v3.CommonExtensionConfig", tapStaticConfig)
}

// tapStaticConfig: a static tap writes to a sink of its own (a file or a custom sink), not to an admin stream, and
// says what to match.
// Envoy: source/extensions/common/tap/extension_config_base.cc:33 [http-filters-d4a777aa] — "Error: Specifying
// admin streaming output without configuring admin."; tap_config_base.cc:76, :138 [http-filters-4345273d]
// [http-filters-006d073f] — "Output sink type BufferedAdmin requires that the admin output will be configured via
// admin", "Neither match nor match_config is set in TapConfig: <config>".
func tapStaticConfig(c *Context, m protoreflect.Message) {
	e, ok := m.Interface().(*tapv3.CommonExtensionConfig)
	if !ok || e.GetStaticConfig() == nil {
		return
	}
	tc := e.GetStaticConfig()
	for i, s := range tc.GetOutputConfig().GetSinks() {
		at := func(field string) string { return index(c.at("static_config.output_config.sinks"), i) + field }
		switch s.GetOutputSinkType().(type) {
		case *tapconfigv3.OutputSink_StreamingAdmin:
			c.envoyf(at(".streaming_admin"), tapExtensionSource, "Error: Specifying admin streaming output without configuring "+
				"admin. (use admin_config, or a file_per_tap or custom sink)")
			return
		case *tapconfigv3.OutputSink_BufferedAdmin:
			c.envoyf(at(".buffered_admin"), tapConfigSource, "Output sink type BufferedAdmin requires that the admin output "+
				"will be configured via admin (use admin_config, or a file_per_tap or custom sink)")
			return
		}
	}
	if tc.GetMatch() == nil && tc.GetMatchConfig() == nil {
		c.envoyf(c.at("static_config"), tapConfigSource, "Neither match nor match_config is set in TapConfig: set match "+
			"(e.g. {any_match: true})")
	}
}
