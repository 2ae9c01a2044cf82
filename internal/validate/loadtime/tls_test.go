package loadtime_test

import "testing"

const (
	downstreamTLS = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext"
	upstreamTLS   = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext"
	certPair      = "{certificate_chain: {filename: /c.pem}, private_key: {filename: /k.pem}}"
)

// tlsListener returns a bootstrap with a TLS listener whose DownstreamTlsContext has the given fields (YAML flow
// mapping body), and extra YAML lines appended to the bootstrap's static_resources.
func tlsListener(ctx, staticExtra string) string {
	return listener("filter_chains:\n- transport_socket: {name: tls, typed_config: {'@type': "+downstreamTLS+", "+ctx+"}}\n"+
		"  filters: [{name: tcp, typed_config: {'@type': "+tcpType+", stat_prefix: t, cluster: app}}]\n") + staticExtra
}

func tlsCluster(ctx string) string {
	return cluster("type: STATIC, transport_socket: {name: tls, typed_config: {'@type': " + upstreamTLS + ", " + ctx + "}}")
}

func TestTLSRules(t *testing.T) { runRules(t, casesTLSRules()) }

func casesTLSRules() []ruleCase {
	const ts = "static_resources.listeners[0].filter_chains[0].transport_socket.typed_config<DownstreamTlsContext>"
	const uts = "static_resources.clusters[0].transport_socket.typed_config<UpstreamTlsContext>"
	return []ruleCase{
		{"server certificate", tlsListener("common_tls_context: {tls_certificates: ["+certPair+"]}", ""), "", ""},
		{"server without certificate", tlsListener("common_tls_context: {}", ""), ts + ".common_tls_context", "No TLS certificates found for server context"},
		{"server mixing sds and inline", tlsListener("common_tls_context: {tls_certificates: ["+certPair+"], tls_certificate_sds_secret_configs: [{name: s, sds_config: {path_config_source: {path: /s.yaml}}}]}", ""),
			ts + ".common_tls_context.tls_certificate_sds_secret_configs", "SDS and non-SDS TLS certificates may not be mixed in server contexts"},
		{"server with only a certificate provider", tlsListener("common_tls_context: {tls_certificate_provider_instance: {instance_name: p}}", ""),
			ts + ".common_tls_context", "No TLS certificates found for server context"},
		{"client one certificate", tlsCluster("common_tls_context: {tls_certificates: [" + certPair + "]}"), "", ""},
		{"client two certificates", tlsCluster("common_tls_context: {tls_certificates: [" + certPair + ", " + certPair + "]}"),
			uts + ".common_tls_context", "Multiple TLS certificates are not supported for client contexts"},
		{"client sni with nul", tlsCluster("sni: \"a\\0b\""), uts + ".sni", "SNI names containing NULL-byte are not allowed"},

		{"san with ca", tlsCluster("common_tls_context: {validation_context: {trusted_ca: {filename: /ca.pem}, match_typed_subject_alt_names: [{san_type: DNS, matcher: {exact: a}}]}}"), "", ""},
		{"san without ca", tlsCluster("common_tls_context: {validation_context: {match_typed_subject_alt_names: [{san_type: DNS, matcher: {exact: a}}]}}"),
			uts + ".common_tls_context.validation_context", "SAN-based verification of peer certificates without trusted CA is insecure and not allowed"},
		{"hash pin without ca", tlsCluster("common_tls_context: {validation_context: {verify_certificate_hash: ['" + sha256Hex + "']}}"), "", ""},
		{"crl without ca", tlsCluster("common_tls_context: {validation_context: {crl: {filename: /crl.pem}}}"),
			uts + ".common_tls_context.validation_context.crl", "Failed to load CRL from /crl.pem without trusted CA"},
		{"expired without ca", tlsCluster("common_tls_context: {validation_context: {allow_expired_certificate: true}}"),
			uts + ".common_tls_context.validation_context.allow_expired_certificate", "Certificate validity period is always ignored without trusted CA"},
		{"combined context may get its ca from sds", tlsCluster("common_tls_context: {combined_validation_context: {default_validation_context: {match_typed_subject_alt_names: [{san_type: DNS, matcher: {exact: a}}]}, validation_context_sds_secret_config: {name: ca, sds_config: {path_config_source: {path: /ca.yaml}}}}}"), "", ""},

		{"static secret", tlsListener("common_tls_context: {tls_certificate_sds_secret_configs: [{name: server}]}", "  secrets: [{name: server, tls_certificate: "+certPair+"}]\n"), "", ""},
		{"unknown static secret", tlsListener("common_tls_context: {tls_certificate_sds_secret_configs: [{name: server}]}", ""),
			ts + ".common_tls_context.tls_certificate_sds_secret_configs[0].name", "Unknown static secret: server"},
		{"static secret of another kind", tlsListener("common_tls_context: {tls_certificate_sds_secret_configs: [{name: server}]}", "  secrets: [{name: server, validation_context: {trusted_ca: {filename: /ca.pem}}}]\n"),
			ts + ".common_tls_context.tls_certificate_sds_secret_configs[0].name", "Unknown static secret: server"},
		{"unused static validation context without ca", "static_resources:\n  secrets: [{name: ca, validation_context: {match_typed_subject_alt_names: [{san_type: DNS, matcher: {exact: a}}]}}]\n", "", ""},
		{"used static validation context without ca", tlsCluster("common_tls_context: {validation_context_sds_secret_config: {name: ca}}") +
			"  secrets: [{name: ca, validation_context: {match_typed_subject_alt_names: [{san_type: DNS, matcher: {exact: a}}]}}]\n",
			"static_resources.secrets[0].validation_context", "SAN-based verification of peer certificates without trusted CA is insecure and not allowed"},
		{"unknown static validation context", tlsCluster("common_tls_context: {validation_context_sds_secret_config: {name: ca}}"),
			uts + ".common_tls_context.validation_context_sds_secret_config.name", "Unknown static certificate validation context: ca"},
		{"duplicate secret", "static_resources:\n  secrets:\n  - {name: s, tls_certificate: " + certPair + "}\n  - {name: s, tls_certificate: " + certPair + "}\n",
			"static_resources.secrets[1].name", "Duplicate static TlsCertificate secret name s"},
		{"duplicate validation context secret", "static_resources:\n  secrets:\n  - {name: v, validation_context: {trusted_ca: {filename: /ca.pem}}}\n  - {name: v, validation_context: {trusted_ca: {filename: /ca2.pem}}}\n",
			"static_resources.secrets[1].name", "Duplicate static CertificateValidationContext secret name v"},
		{"duplicate session ticket keys secret", "static_resources:\n  secrets:\n  - {name: k, session_ticket_keys: {keys: [{filename: /k1}]}}\n  - {name: k, session_ticket_keys: {keys: [{filename: /k2}]}}\n",
			"static_resources.secrets[1].name", "Duplicate static TlsSessionTicketKeys secret name k"},
		{"duplicate generic secret", "static_resources:\n  secrets:\n  - {name: g, generic_secret: {secret: {inline_string: a}}}\n  - {name: g, generic_secret: {secret: {inline_string: b}}}\n",
			"static_resources.secrets[1].name", "Duplicate static GenericSecret secret name g"},
		{"same name, two kinds", "static_resources:\n  secrets:\n  - {name: s, tls_certificate: " + certPair + "}\n  - {name: s, validation_context: {trusted_ca: {filename: /ca.pem}}}\n", "", ""},
	}
}

const sha256Hex = "df6ff72fe9116521268f6f2dd4966f51df479883fe7037b39f75916ac3049d1a"

func init() { registerCases(casesTLSRules) }
