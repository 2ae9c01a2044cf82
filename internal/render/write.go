package render

import "github.com/appnet/appnet-agent/internal/bootfile"

// BootstrapName is the bootstrap's name in the agent's private directory under TMPDIR
// ($TMPDIR/appnet-agent-XXXX/envoy-config.yaml) when ENVOY_CONFIG_FILE is not set.
const BootstrapName = bootfile.BootstrapName

// Output is what the agent wrote for Envoy (see bootfile.Output).
type Output = bootfile.Output

// Write stores res for Envoy with bootfile.Write: side files first, then the bootstrap at
// configFile (ENVOY_CONFIG_FILE), or in a private directory under tempDir as envoy-config.yaml
// (or res.FileName: ENVOY_CONFIG's bootstrap may be envoy-config.json).
func Write(res *Result, configFile, tempDir string) (*Output, error) {
	return bootfile.Write(bootfile.Input{Bootstrap: res.Bytes, Existing: res.Existing, FileName: res.FileName,
		SideFiles: res.SideFiles, SideFileOwner: sideFileOwner}, configFile, tempDir)
}

// sideFileOwner is the variable that asks for the side file at path.
func sideFileOwner(path string) string {
	if path == samplingRulesPath {
		return "XRAY_SAMPLING_RATE or XRAY_SAMPLING_RULES"
	}
	return "a file the bootstrap refers to"
}
