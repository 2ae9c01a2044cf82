package loadtime_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"
)

func TestListenerOptionRules(t *testing.T) { runRules(t, casesListenerOptionRules()) }

// listenerAt returns a bootstrap with one tcp_proxy listener whose address (a YAML flow mapping) and extra
// fields (YAML block) are given.
func listenerAt(address, extra string) string {
	return "static_resources:\n  clusters: [{name: app, type: STATIC}]\n  listeners:\n  - name: l\n    address: " + address + "\n" +
		indent(extra, "    ") + "    filter_chains:\n" + indent(tcpChain("a", "{}"), "    ")
}

func casesListenerOptionRules() []ruleCase {
	const lp = "static_resources.listeners[0]"
	internalExt := "bootstrap_extensions: [{name: il, typed_config: {'@type': type.googleapis.com/envoy.extensions.bootstrap.internal_listener.v3.InternalListener}}]\n"
	tcpAddr := "{socket_address: {address: 0.0.0.0, port_value: 8080}}"
	udpListener := func(extra string) string {
		return "static_resources:\n  clusters: [{name: app, type: STATIC}]\n  listeners:\n  - name: u\n    address: {socket_address: {protocol: UDP, address: 0.0.0.0, port_value: 53}}\n" +
			"    listener_filters: [{name: u, typed_config: {'@type': type.googleapis.com/envoy.extensions.filters.udp.udp_proxy.v3.UdpProxyConfig, stat_prefix: u, cluster: app}}]\n" + indent(extra, "    ")
	}
	discovery := func(extra string) string {
		return "{name: tls, config_discovery: {config_source: {path_config_source: {path: /etc/envoy/lf.yaml}}, " + extra + "}}"
	}
	tlsInspector := "type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector"
	return []ruleCase{
		{"api and internal listener", internalExt + "static_resources:\n  listeners:\n  - name: api\n    internal_listener: {}\n" +
			"    api_listener: {api_listener: {'@type': " + hcmType + ", stat_prefix: a, route_config: {}, http_filters: [{name: r, typed_config: {'@type': " + routerType + "}}]}}\n",
			lp + ".api_listener", "error adding listener named 'api': api_listener and internal_listener cannot be both set"},
		{"listener without address", "static_resources:\n  clusters: [{name: app, type: STATIC}]\n  listeners:\n  - name: l\n    filter_chains:\n" + indent(tcpChain("a", "{}"), "    "),
			lp + ".address", "error adding listener named 'l': address is necessary"},

		{"additional address of another protocol", listenerAt(tcpAddr, "additional_addresses: [{address: {socket_address: {protocol: UDP, address: 0.0.0.0, port_value: 8081}}}]\n"),
			lp + ".additional_addresses[0].address", "listener l: has different socket type."},
		{"additional address of the same protocol", listenerAt(tcpAddr, "additional_addresses: [{address: {socket_address: {address: '::', port_value: 8080}}}]\n"), "", ""},

		{"ipv4_compat on an IPv4 address", listenerAt("{socket_address: {address: 0.0.0.0, port_value: 8080, ipv4_compat: true}}", ""),
			lp + ".address.socket_address.ipv4_compat", "Only IPv6 address '::' or valid IPv4-mapped IPv6 address can set ipv4_compat: 0.0.0.0:8080"},
		{"ipv4_compat on ::", listenerAt("{socket_address: {address: '::', port_value: 8080, ipv4_compat: true}}", ""), "", ""},
		{"ipv4_compat on a mapped address", listenerAt("{socket_address: {address: '::ffff:10.0.0.1', port_value: 8080, ipv4_compat: true}}", ""), "", ""},
		{"ipv4_compat on an additional address beside ::1", listenerAt("{socket_address: {address: '::1', port_value: 8080}}",
			"additional_addresses: [{address: {socket_address: {address: '::2', port_value: 8080, ipv4_compat: true}}}]\n"),
			lp + ".additional_addresses[0].address.socket_address.ipv4_compat", "can set ipv4_compat: [::1]:8080"},
		{"ipv4_compat on an additional address beside ::", listenerAt("{socket_address: {address: '::', port_value: 8080}}",
			"additional_addresses: [{address: {socket_address: {address: '::2', port_value: 8081, ipv4_compat: true}}}]\n"), "", ""},

		{"mptcp on udp", udpListener("enable_mptcp: true\n"), lp + ".enable_mptcp", "listener u: enable_mptcp can only be used with TCP listeners"},
		{"mptcp on a pipe", listenerAt("{pipe: {path: /run/envoy.sock}}", "enable_mptcp: true\n"),
			lp + ".enable_mptcp", "listener l: enable_mptcp can only be used with IP addresses"},
		{"mptcp on tcp", listenerAt(tcpAddr, "enable_mptcp: true\n"), "", ""},

		{"extend balance", listenerAt(tcpAddr, "connection_balance_config: {extend_balance: {name: b, typed_config: {'@type': type.googleapis.com/google.protobuf.Struct, value: {}}}}\n"),
			lp + ".connection_balance_config.extend_balance.typed_config", "Didn't find a registered implementation for type: 'google.protobuf.Struct'"},
		{"exact balance", listenerAt(tcpAddr, "connection_balance_config: {exact_balance: {}}\n"), "", ""},

		{"listener filter discovery without default", listenerAt(tcpAddr, "listener_filters: ["+discovery("apply_default_config_without_warming: true, type_urls: ["+tlsInspector+"]")+"]\n"),
			lp + ".listener_filters[0].config_discovery.apply_default_config_without_warming", "Error: listener filter config tls applied without warming but has no default config."},
		{"listener filter discovery of an http filter", listenerAt(tcpAddr, "listener_filters: ["+discovery("type_urls: [type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors]")+"]\n"),
			lp + ".listener_filters[0].config_discovery.type_urls[0]", "Error: no listener factory found for a required type URL envoy.extensions.filters.http.cors.v3.Cors."},
		{"listener filter discovery", listenerAt(tcpAddr, "listener_filters: ["+discovery("apply_default_config_without_warming: true, default_config: {'@type': "+tlsInspector+"}, type_urls: ["+tlsInspector+"]")+"]\n"), "", ""},
		{"udp listener filter discovery", strings.Replace(udpListener(""), "[{name: u, typed_config: {'@type': type.googleapis.com/envoy.extensions.filters.udp.udp_proxy.v3.UdpProxyConfig, stat_prefix: u, cluster: app}}]",
			"["+discovery("type_urls: [type.googleapis.com/envoy.extensions.filters.udp.udp_proxy.v3.UdpProxyConfig]")+"]", 1),
			lp + ".listener_filters[0].config_discovery", "UDP listener filter: tls is configured with unsupported dynamic configuration"},

		{"proxy protocol without versions", listenerAt(tcpAddr, "listener_filters: [{name: pp, typed_config: {'@type': type.googleapis.com/envoy.extensions.filters.listener.proxy_protocol.v3.ProxyProtocol, disallowed_versions: [V1, V2]}}]\n"),
			lp + ".listener_filters[0].typed_config<ProxyProtocol>.disallowed_versions", "Proxy Protocol filter is misconfigured: all proxy protocol versions are disallowed."},
		{"proxy protocol v2 only", listenerAt(tcpAddr, "listener_filters: [{name: pp, typed_config: {'@type': type.googleapis.com/envoy.extensions.filters.listener.proxy_protocol.v3.ProxyProtocol, disallowed_versions: [V1]}}]\n"), "", ""},
	}
}

func TestResolvedAddressRules(t *testing.T) { runRules(t, casesResolvedAddressRules()) }

func casesResolvedAddressRules() []ruleCase {
	const lp = "static_resources.listeners[0].address"
	long := "/run/" + strings.Repeat("x", 103)
	return []ruleCase{
		{"named port", listenerAt("{socket_address: {address: 0.0.0.0, named_port: http}}", ""),
			lp + ".socket_address.named_port", "IP resolver can't handle port specifier type 4"},
		{"unknown resolver", listenerAt("{socket_address: {address: 0.0.0.0, port_value: 80, resolver_name: dns}}", ""),
			lp + ".socket_address.resolver_name", "Unknown address resolver: dns"},
		{"ip resolver by name", listenerAt("{socket_address: {address: 0.0.0.0, port_value: 80, resolver_name: envoy.ip}}", ""), "", ""},
		{"ip resolver by name with a host name", listenerAt("{socket_address: {address: localhost, port_value: 80, resolver_name: envoy.ip}}", ""),
			lp + ".socket_address.address", "malformed IP address: localhost"},
		{"pipe path too long", listenerAt("{pipe: {path: "+long+"}}", ""), lp + ".pipe.path", "exceeds maximum UNIX domain socket path size of 108."},
		{"pipe path at the limit", listenerAt("{pipe: {path: "+long[:107]+"}}", ""), "", ""},
		{"admin pipe path too long", "admin: {address: {pipe: {path: " + long + "}}}\n", "admin.address.pipe.path", "exceeds maximum UNIX domain socket path size"},
		{"abstract pipe with a mode", listenerAt("{pipe: {path: '@envoy', mode: 0644}}", ""), lp + ".pipe.mode", "Cannot set mode for Abstract AF_UNIX sockets"},
		{"abstract pipe", listenerAt("{pipe: {path: '@envoy'}}", ""), "", ""},
		{"pipe with a mode", listenerAt("{pipe: {path: /run/envoy.sock, mode: 0644}}", ""), "", ""},
		{"pipe path with a NUL", listenerAt("{pipe: {path: \"/run/a\\0b\"}}", ""), lp + ".pipe.path", "UNIX domain socket pathname contains embedded null characters"},
	}
}

func TestQUICRules(t *testing.T) { runRules(t, casesQUICRules()) }

// quicListener returns a bootstrap with a QUIC listener whose filter chain has the given transport socket config
// (YAML flow mapping body after the @type) and filters (YAML flow list), and extra quic_options fields.
func quicListener(transport, filters, quicOptions string) string {
	return "static_resources:\n  clusters: [{name: app, type: STATIC}]\n  listeners:\n  - name: q\n" +
		"    address: {socket_address: {protocol: UDP, address: 0.0.0.0, port_value: 443}}\n" +
		"    udp_listener_config: {quic_options: {" + quicOptions + "}}\n" +
		"    filter_chains:\n    - transport_socket: {name: quic, typed_config: {" + transport + "}}\n      filters: " + filters + "\n"
}

func casesQUICRules() []ruleCase {
	const lp = "static_resources.listeners[0]"
	quicTLS := func(extra string) string {
		return "'@type': type.googleapis.com/envoy.extensions.transport_sockets.quic.v3.QuicDownstreamTransport, downstream_tls_context: {" + extra +
			"common_tls_context: {tls_certificates: [{certificate_chain: {filename: /c}, private_key: {filename: /k}}]}}"
	}
	inlineCert := func(curve elliptic.Curve) string {
		return strings.Replace(quicTLS(""), "filename: /c", "inline_string: "+yamlQuote(testCertPEM(curve)), 1)
	}
	hcmFilter := "[{name: hcm, typed_config: {'@type': " + hcmType + ", codec_type: HTTP3, stat_prefix: q, route_config: {}, http_filters: [{name: r, typed_config: {'@type': " + routerType + "}}]}}]"
	ts := lp + ".filter_chains[0].transport_socket.typed_config<QuicDownstreamTransport>"
	spa := func(typed string) string {
		return quicListener(quicTLS(""), hcmFilter, "server_preferred_address_config: {name: spa, typed_config: {"+typed+"}}")
	}
	const fixed = "'@type': type.googleapis.com/envoy.extensions.quic.server_preferred_address.v3.FixedServerPreferredAddressConfig, "
	const fromData = "'@type': type.googleapis.com/envoy.extensions.quic.server_preferred_address.v3.DataSourceServerPreferredAddressConfig, "
	const spaPath = lp + ".udp_listener_config.quic_options.server_preferred_address_config.typed_config"
	const fixedPath, dataPath = spaPath + "<FixedServerPreferredAddressConfig>", spaPath + "<DataSourceServerPreferredAddressConfig>"
	lb := func(fields string) string {
		return quicListener(quicTLS(""), hcmFilter, "connection_id_generator_config: {name: lb, typed_config: {'@type': type.googleapis.com/envoy.extensions.quic.connection_id_generator.quic_lb.v3.Config, "+fields+"}}")
	}
	lbPath := lp + ".udp_listener_config.quic_options.connection_id_generator_config.typed_config<Config>"
	withSecret := func(bootstrap, secret string) string {
		return strings.Replace(bootstrap, "static_resources:\n", "static_resources:\n  secrets: [{name: k, generic_secret: {secrets: {"+secret+"}}}]\n", 1)
	}
	lbSecret := func(secret string) string {
		return withSecret(lb("server_id: {inline_string: abc}, nonce_length_bytes: 4, encryption_parameters: {name: k}"), secret)
	}
	const key16 = "encryption_key: {inline_string: 0123456789abcdef}"
	return []ruleCase{
		{"quic chain with a tls socket", quicListener("'@type': type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext", hcmFilter, ""),
			lp + ".filter_chains[0].transport_socket", "wrong transport socket config specified for quic transport socket: envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext"},
		{"quic chain ending with tcp proxy", quicListener(quicTLS(""), "[{name: tcp, typed_config: {'@type': "+tcpType+", stat_prefix: t, cluster: app}}]", ""),
			lp + ".filter_chains[0].filters", "requires http_connection_manager filter to be last in the chain."},
		{"quic chain", quicListener(quicTLS(""), hcmFilter, ""), "", ""},
		{"quic with client certificates and mtls off", "layered_runtime: {layers: [{name: s, static_layer: {envoy.reloadable_features.quic_mtls_server_enabled: false}}]}\n" +
			quicListener(quicTLS("require_client_certificate: true, "), hcmFilter, ""),
			ts + ".downstream_tls_context.require_client_certificate", "TLS Client Authentication is not supported over QUIC"},
		{"quic with client certificates", quicListener(quicTLS("require_client_certificate: true, "), hcmFilter, ""), "", ""},
		{"quic with a P-224 certificate", quicListener(inlineCert(elliptic.P224()), hcmFilter, ""),
			ts + ".downstream_tls_context.common_tls_context.tls_certificates[0].certificate_chain", "Failed to deduce signature algorithm from public key: Invalid leaf cert"},
		{"quic with a P-384 certificate and only P-256", "layered_runtime: {layers: [{name: s, static_layer: {envoy.reloadable_features.quic_support_additional_ecdsa_curves: false}}]}\n" +
			quicListener(inlineCert(elliptic.P384()), hcmFilter, ""),
			ts + ".downstream_tls_context.common_tls_context.tls_certificates[0].certificate_chain", "Invalid leaf cert, only P-256 ECDSA certificates are supported"},
		{"quic with a P-256 certificate", quicListener(inlineCert(elliptic.P256()), hcmFilter, ""), "", ""},
		{"quic with a P-384 certificate", quicListener(inlineCert(elliptic.P384()), hcmFilter, ""), "", ""},
		{"quic upstream with a certificate selector", "static_resources:\n  clusters:\n  - name: h3\n    type: STATIC\n" +
			"    transport_socket: {name: quic, typed_config: {'@type': type.googleapis.com/envoy.extensions.transport_sockets.quic.v3.QuicUpstreamTransport, upstream_tls_context: {common_tls_context: {custom_tls_certificate_selector: {name: s, typed_config: {'@type': type.googleapis.com/google.protobuf.Struct, value: {}}}}}}}\n",
			"static_resources.clusters[0].transport_socket.typed_config<QuicUpstreamTransport>.upstream_tls_context.common_tls_context.custom_tls_certificate_selector",
			"Client certificate selector not supported on QUIC"},

		{"fixed preferred address not an ip", spa(fixed + "ipv4_address: not-an-ip"), fixedPath + ".ipv4_address", "bad v4 server preferred address: not-an-ip"},
		{"fixed preferred address of the other family", spa(fixed + "ipv4_config: {address: {address: '::1'}}"),
			fixedPath + ".ipv4_config.address", "wrong address type for v4 server preferred address: ::1"},
		{"fixed preferred address not parsed", spa(fixed + "ipv6_config: {address: {address: host}}"),
			fixedPath + ".ipv6_config.address", "Invalid address host"},
		{"fixed preferred address with a port", spa(fixed + "ipv4_config: {address: {address: 1.2.3.4, port_value: 443}}"),
			fixedPath + ".ipv4_config.address.port_value", "'address' port must be zero unless 'dnat_address' is set in address 1.2.3.4:443 for address family v4"},
		{"fixed preferred dnat without address", spa(fixed + "ipv4_config: {dnat_address: {address: 10.0.0.1}}"),
			fixedPath + ".ipv4_config.dnat_address", "'dnat_address' but not 'address' is set in server preferred address for v4"},
		{"fixed preferred dnat with a port", spa(fixed + "ipv4_config: {address: {address: 1.2.3.4, port_value: 443}, dnat_address: {address: 10.0.0.1, port_value: 8443}}"),
			fixedPath + ".ipv4_config.dnat_address.port_value", "port must be 0 in this version of Envoy in address '10.0.0.1:8443'"},
		{"fixed preferred address", spa(fixed + "ipv4_address: 1.2.3.4, ipv6_config: {address: {address: '2001:db8::1', port_value: 443}, dnat_address: {address: 'fd00::1', port_value: 0}}"), "", ""},
		{"data source preferred address not an ip", spa(fromData + "ipv4_config: {address: {inline_string: x}}"),
			dataPath + ".ipv4_config.address", "bad v4 server preferred address: x"},
		{"data source preferred address of the other family", spa(fromData + "ipv6_config: {address: {inline_string: 1.2.3.4}}"),
			dataPath + ".ipv6_config.address", "wrong address family for v6 server preferred address: 1.2.3.4"},
		{"data source preferred port without dnat", spa(fromData + "ipv4_config: {address: {inline_string: 1.2.3.4}, port: {inline_string: '443'}}"),
			dataPath + ".ipv4_config.port", "port must be unset unless 'dnat_address' is set for address family v4"},
		{"data source preferred port out of range", spa(fromData + "ipv4_config: {address: {inline_string: 1.2.3.4}, port: {inline_string: '70000'}, dnat_address: {inline_string: 10.0.0.1}}"),
			dataPath + ".ipv4_config.port", "server preferred address v4 port was not a valid port: 70000"},
		{"data source preferred address", spa(fromData + "ipv4_config: {address: {inline_string: \" 1.2.3.4\\n\"}, port: {inline_string: ' +443'}, dnat_address: {inline_string: 10.0.0.1}}"), "", ""},

		{"quic lb id and nonce too long", lb("server_id: {inline_string: abc}, nonce_length_bytes: 16, encryption_parameters: {name: k, sds_config: {ads: {}}}"),
			lbPath + ".server_id", "'server_id' length (3) and 'nonce_length_bytes' (16) combined must be 18 bytes or less."},
		{"quic lb unexpected id length", lb("server_id: {inline_string: abc}, expected_server_id_length: 4, nonce_length_bytes: 4, encryption_parameters: {name: k, sds_config: {ads: {}}}"),
			lbPath + ".expected_server_id_length", "'expected_server_id_length' 4 does not match actual 'server_id' length 3"},
		{"quic lb id not base64", lb("server_id: {inline_string: 'a*'}, server_id_base64_encoded: true, nonce_length_bytes: 4, encryption_parameters: {name: k, sds_config: {ads: {}}}"),
			lbPath + ".server_id", "error generating quic::LoadBalancerConfig"},
		{"quic lb without the secret", lb("server_id: {inline_string: abc}, nonce_length_bytes: 4, encryption_parameters: {name: k}"),
			lbPath + ".encryption_parameters", "invalid encryption_parameters config"},
		{"quic lb short key", lbSecret("encryption_key: {inline_string: short}, configuration_version: {inline_bytes: AQ==}"),
			lbPath + ".encryption_parameters", "'encryption_key' length was 5, but it must be length 16"},
		{"quic lb version too high", lbSecret(key16 + ", configuration_version: {inline_bytes: Bw==}"),
			lbPath + ".encryption_parameters", "'configuration_version' was 7, but must be less than 7"},
		{"quic lb without a version", lbSecret(key16), lbPath + ".encryption_parameters", "Missing 'configuration_version'"},
		{"quic lb without a key", lbSecret("configuration_version: {inline_bytes: AQ==}"), lbPath + ".encryption_parameters", "Missing 'encryption_key'"},
		{"quic lb long version", lbSecret(key16 + ", configuration_version: {inline_string: '10'}"),
			lbPath + ".encryption_parameters", "'configuration_version' length was 2, but it must be length 1 byte"},
		{"quic listener filter discovery without default", strings.Replace(quicListener(quicTLS(""), hcmFilter, ""), "    filter_chains:", "    listener_filters: [{name: qf, config_discovery: {config_source: {path_config_source: {path: /etc/envoy/qf.yaml}}, apply_default_config_without_warming: true, type_urls: [type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector]}}]\n    filter_chains:", 1),
			lp + ".listener_filters[0].config_discovery.apply_default_config_without_warming", "Error: listener filter config qf applied without warming but has no default config."},
		{"quic listener filter discovery of a tcp listener filter", strings.Replace(quicListener(quicTLS(""), hcmFilter, ""), "    filter_chains:", "    listener_filters: [{name: qf, config_discovery: {config_source: {path_config_source: {path: /etc/envoy/qf.yaml}}, type_urls: [type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector]}}]\n    filter_chains:", 1),
			lp + ".listener_filters[0].config_discovery.type_urls[0]", "Error: no listener factory found for a required type URL envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector. (this listener takes envoy.filters.quic_listener extensions)"},
		{"quic lb", withSecret(lb("server_id: {inline_string: YWJj}, server_id_base64_encoded: true, expected_server_id_length: 3, nonce_length_bytes: 15, encryption_parameters: {name: k}"),
			"encryption_key: {inline_string: 0123456789abcdef}, configuration_version: {inline_bytes: Bg==}"), "", ""},
	}
}

// testCertPEM returns a self-signed certificate for a new key on the curve, in PEM.
func testCertPEM(curve elliptic.Curve) string {
	key, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test"},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<32, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// yamlQuote writes s as a double-quoted YAML scalar.
func yamlQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}

func init() { registerCases(casesListenerOptionRules, casesResolvedAddressRules, casesQUICRules) }
