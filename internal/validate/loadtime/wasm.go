//go:build !appnet_lean

package loadtime

import (
	wasmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/wasm/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Wasm plugins (source/extensions/common/wasm): every PluginConfig (HTTP and network filters, access loggers, stats
// sinks, the bootstrap service) is built at load, before its VM is created.

const (
	wasmSource       = "source/extensions/common/wasm/wasm.cc"
	wasmPluginSource = "source/extensions/common/wasm/plugin.cc"
	wasmNullVM       = "envoy.wasm.runtime.null"
)

func init() {
	register("envoy.extensions.wasm.v3.PluginConfig", wasmPluginConfig)
}

// wasmPluginConfig: failure handling is set by fail_open or by a known failure_policy; the environment of a
// NullVm plugin is Envoy's own (no key_values), and every environment key is set once.
// Envoy: source/extensions/common/wasm/wasm.cc:574, :595 [http-filters-1ccb3ece] [http-filters-aec189b3] — "only
// one of fail_open or failure_policy can be set", "unknown failure policy"; plugin.cc:26, :37
// [http-filters-30b5def0] [http-filters-6530ba06] — "envoy.extensions.wasm.v3.VmConfig.EnvironmentVariables.key_values
// must not be set for NullVm.", "Key <k> is duplicated in envoy.extensions.wasm.v3.VmConfig.environment_variables for
// <plugin>. All the keys must be unique.".
func wasmPluginConfig(c *Context, m protoreflect.Message) {
	p, ok := m.Interface().(*wasmv3.PluginConfig)
	if !ok {
		return
	}
	policy := p.GetFailurePolicy()
	switch {
	case p.GetFailOpen() && policy != wasmv3.FailurePolicy_UNSPECIFIED:
		c.envoyf(c.at("failure_policy"), wasmSource, "only one of fail_open or failure_policy can be set")
		return
	case !p.GetFailOpen() && policy.Descriptor().Values().ByNumber(policy.Number()) == nil:
		c.envoyf(c.at("failure_policy"), wasmSource, "unknown failure policy %d (FAIL_CLOSED, FAIL_OPEN or FAIL_RELOAD)", policy)
		return
	}
	env := p.GetVmConfig().GetEnvironmentVariables()
	if env == nil {
		return
	}
	if p.GetVmConfig().GetRuntime() == wasmNullVM && len(env.GetKeyValues()) > 0 {
		c.envoyf(c.at("vm_config.environment_variables.key_values"), wasmPluginSource,
			"envoy.extensions.wasm.v3.VmConfig.EnvironmentVariables.key_values must not be set for NullVm.")
		return
	}
	seen := make(map[string]bool, len(env.GetKeyValues())+len(env.GetHostEnvKeys()))
	for k := range env.GetKeyValues() {
		seen[k] = true
	}
	for i, k := range env.GetHostEnvKeys() {
		if seen[k] {
			c.envoyf(index(c.at("vm_config.environment_variables.host_env_keys"), i), wasmPluginSource,
				"Key %s is duplicated in envoy.extensions.wasm.v3.VmConfig.environment_variables for %s. All the keys must be unique.",
				k, p.GetName())
			return
		}
		seen[k] = true
	}
}
