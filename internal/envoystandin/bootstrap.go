package main

import (
	"encoding/json"
	"fmt"
	"math"
	"net"
	"os"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"
)

// bootstrapInfo is what the stand-in takes from the bootstrap: where to serve admin, and
// the node identity it reports in /server_info.
type bootstrapInfo struct {
	adminNetwork string // "tcp", "unix", or "" when there is no admin
	adminAddress string // host:port or socket path
	listenNet    string // "tcp4", "tcp6" (v6 only) or "tcp" (IPv6 with ipv4_compat: dual stack)
	pipeMode     os.FileMode
	nodeID       string
	nodeCluster  string
	listeners    []bootstrapListener // static TCP listeners, served (listeners.go)
	raw          map[string]any      // the whole bootstrap, for /config_dump, /clusters, /listeners
}

// defaultPipeMode applies when a pipe has no mode. Envoy itself leaves the umask's
// permissions in that case; the stand-in is stricter so tests never see a world-writable
// admin socket by accident.
const defaultPipeMode = 0o600

func loadBootstrap(o *options) (*bootstrapInfo, error) {
	if o.configPath == "" && o.configYAML == "" {
		return nil, fmt.Errorf("At least one of --config-path or --config-yaml or Options::configProto() should be non-empty")
	}
	root := map[string]any{}
	if o.configPath != "" {
		data, err := os.ReadFile(o.configPath)
		if err != nil {
			return nil, fmt.Errorf("unable to read file: %s", o.configPath)
		}
		m, err := parseBootstrapDoc(string(data), strings.HasSuffix(o.configPath, ".json"))
		if err != nil {
			return nil, fmt.Errorf("Unable to convert YAML as JSON: %v", err)
		}
		root = m
	}
	if o.configYAML != "" {
		// --config-yaml is merged over the file, as Envoy does.
		m, err := parseBootstrapDoc(o.configYAML, false)
		if err != nil {
			return nil, fmt.Errorf("Unable to convert YAML as JSON: %v", err)
		}
		for k, v := range m {
			root[k] = v
		}
	}
	return extractBootstrap(root)
}

// parseBootstrapDoc accepts YAML or JSON. A .json file is decoded strictly as JSON, as
// Envoy picks the format by extension; anything else goes through the YAML decoder, which
// also reads JSON.
func parseBootstrapDoc(text string, isJSON bool) (map[string]any, error) {
	if strings.TrimSpace(text) == "" {
		return nil, fmt.Errorf("empty bootstrap")
	}
	data := []byte(text)
	if !isJSON {
		var err error
		if data, err = yaml.YAMLToJSON(data); err != nil {
			return nil, err
		}
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, fmt.Errorf("the bootstrap is not a mapping")
	}
	return m, nil
}

// field returns the first of names present in m; Envoy accepts both the proto field name
// and its JSON camelCase spelling.
func field(v any, names ...string) (any, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, false
	}
	for _, n := range names {
		if x, ok := m[n]; ok && x != nil {
			return x, true
		}
	}
	return nil, false
}

func scalarString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	return ""
}

// integerField reads a non-negative integer written as a number or a string.
func integerField(v any, max uint64) (uint64, error) {
	switch x := v.(type) {
	case float64:
		if x < 0 || x > float64(max) || x != math.Trunc(x) {
			return 0, fmt.Errorf("%v out of range", x)
		}
		return uint64(x), nil
	case string:
		n, err := strconv.ParseUint(strings.TrimSpace(x), 0, 64)
		if err != nil || n > max {
			return 0, fmt.Errorf("invalid value %q", x)
		}
		return n, nil
	}
	return 0, fmt.Errorf("invalid value %v", v)
}

func extractBootstrap(root map[string]any) (*bootstrapInfo, error) {
	info := &bootstrapInfo{raw: root}
	var err error
	if info.listeners, err = extractListeners(root); err != nil {
		return nil, err
	}
	if node, ok := field(root, "node"); ok {
		id, _ := field(node, "id")
		cluster, _ := field(node, "cluster")
		info.nodeID, info.nodeCluster = scalarString(id), scalarString(cluster)
	}
	admin, ok := field(root, "admin")
	if !ok {
		return info, nil
	}
	addr, ok := field(admin, "address")
	if !ok {
		return info, nil
	}
	if sa, ok := field(addr, "socket_address", "socketAddress"); ok {
		hostV, _ := field(sa, "address")
		host := scalarString(hostV)
		if host == "" {
			return nil, fmt.Errorf("admin.address.socket_address.address: value is required")
		}
		portV, ok := field(sa, "port_value", "portValue")
		if !ok {
			portV = "0"
		}
		port, err := integerField(portV, 65535)
		if err != nil {
			return nil, fmt.Errorf("admin.address.socket_address.port_value: %v", err)
		}
		ip := net.ParseIP(host)
		if ip == nil {
			return nil, fmt.Errorf("malformed IP address: %s", host)
		}
		info.adminNetwork, info.listenNet = "tcp", "tcp4"
		if ip.To4() == nil {
			info.listenNet = "tcp6"
			if compat, ok := field(sa, "ipv4_compat", "ipv4Compat"); ok && scalarString(compat) == "true" {
				info.listenNet = "tcp"
			}
		}
		info.adminAddress = joinHostPort(host, port)
		return info, nil
	}
	if pipe, ok := field(addr, "pipe"); ok {
		pathV, _ := field(pipe, "path")
		path := scalarString(pathV)
		if path == "" {
			return nil, fmt.Errorf("admin.address.pipe.path: value length must be at least 1 characters")
		}
		info.adminNetwork, info.adminAddress, info.pipeMode = "unix", path, defaultPipeMode
		if modeV, ok := field(pipe, "mode"); ok {
			mode, err := integerField(modeV, 0o777)
			if err != nil {
				return nil, fmt.Errorf("admin.address.pipe.mode: %v", err)
			}
			if mode != 0 {
				info.pipeMode = os.FileMode(mode)
			}
		}
		return info, nil
	}
	return nil, fmt.Errorf("admin.address: neither socket_address nor pipe is set")
}

func joinHostPort(host string, port uint64) string {
	if strings.Contains(host, ":") && !strings.HasPrefix(host, "[") {
		host = "[" + host + "]"
	}
	return host + ":" + strconv.FormatUint(port, 10)
}
