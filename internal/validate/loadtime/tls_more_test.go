package loadtime_test

import (
	"strings"
	"testing"
)

const (
	tsPath  = "static_resources.listeners[0].filter_chains[0].transport_socket.typed_config<DownstreamTlsContext>"
	utsPath = "static_resources.clusters[0].transport_socket.typed_config<UpstreamTlsContext>"
	caPair  = "{trusted_ca: {filename: /ca.pem}}"
	// onDemand is the on-demand certificate selector (server and upstream).
	onDemand = "custom_tls_certificate_selector: {name: od, typed_config: {'@type': type.googleapis.com/envoy.extensions.transport_sockets.tls.cert_selectors.on_demand_secret.v3.Config, " +
		"config_source: {path_config_source: {path: /s.yaml}}, certificate_mapper: {name: sni, typed_config: {'@type': type.googleapis.com/envoy.extensions.transport_sockets.tls.cert_mappers.sni.v3.SNI, default_value: d}}}}"
	noResumption = "disable_stateless_session_resumption: true, disable_stateful_session_resumption: true"
)

// serverTLS returns a TLS listener whose context has one certificate pair and the given extra fields.
func serverTLS(common, extra string) string {
	if extra != "" {
		extra = ", " + extra
	}
	return tlsListener("common_tls_context: {tls_certificates: ["+certPair+"]"+common+"}"+extra, "")
}

func TestTLSMoreRules(t *testing.T) { runRules(t, casesTLSMoreRules()) }

func casesTLSMoreRules() []ruleCase {
	const cert0 = tsPath + ".common_tls_context.tls_certificates[0]"
	long := strings.Repeat("a", 256)
	return []ruleCase{
		{"ocsp staple inline string", tlsListener("common_tls_context: {tls_certificates: [{certificate_chain: {filename: /c.pem}, private_key: {filename: /k.pem}, ocsp_staple: {inline_string: x}}]}", ""),
			cert0 + ".ocsp_staple.inline_string", "OCSP staple cannot be provided via inline_string"},
		{"ocsp staple file", tlsListener("common_tls_context: {tls_certificates: [{certificate_chain: {filename: /c.pem}, private_key: {filename: /k.pem}, ocsp_staple: {filename: /o.der}}]}", ""), "", ""},
		{"pkcs12 and private key", tlsListener("common_tls_context: {tls_certificates: [{pkcs12: {filename: /p.p12}, private_key: {filename: /k.pem}}]}", ""),
			cert0 + ".private_key", "Certificate configuration can't have both pkcs12 and private_key"},
		{"pkcs12 and chain", tlsListener("common_tls_context: {tls_certificates: [{pkcs12: {filename: /p.p12}, certificate_chain: {filename: /c.pem}}]}", ""),
			cert0 + ".certificate_chain", "Certificate configuration can't have both pkcs12 and certificate_chain"},
		{"pkcs12 and key provider", tlsListener("common_tls_context: {tls_certificates: [{pkcs12: {filename: /p.p12}, private_key_provider: {provider_name: cryptomb}}]}", ""),
			cert0 + ".private_key_provider", "Certificate configuration can't have both pkcs12 and private_key_provider"},
		{"pkcs12", tlsListener("common_tls_context: {tls_certificates: [{pkcs12: {filename: /p.p12}, password: {inline_string: pw}}]}", ""), "", ""},
		{"certificate without chain", tlsListener("common_tls_context: {tls_certificates: [{private_key: {filename: /k.pem}}]}", ""),
			cert0 + ".certificate_chain", "Failed to load incomplete certificate from : certificate chain not set"},
		{"certificate without key", tlsListener("common_tls_context: {tls_certificates: [{certificate_chain: {inline_string: pem}}]}", ""),
			cert0 + ".private_key", "Failed to load incomplete private key from path: "},
		{"certificate with key provider", tlsListener("common_tls_context: {tls_certificates: [{certificate_chain: {filename: /c.pem}, private_key_provider: {provider_name: cryptomb}}]}", ""), "", ""},
		{"static secret without key", tlsListener("common_tls_context: {tls_certificate_sds_secret_configs: [{name: s}]}", "  secrets: [{name: s, tls_certificate: {certificate_chain: {filename: /c.pem}}}]\n"),
			"static_resources.secrets[0].tls_certificate.private_key", "Failed to load incomplete private key from path: "},
		{"unused static secret without key", "static_resources:\n  secrets: [{name: s, tls_certificate: {certificate_chain: {filename: /c.pem}}}]\n", "", ""},
		{"server certificates all empty", tlsListener("common_tls_context: {tls_certificates: [{ocsp_staple: {filename: /o.der}}]}", ""),
			tsPath + ".common_tls_context.tls_certificates", "Server TlsCertificates must have a certificate specified"},
		{"server certificate from a selector", tlsListener("common_tls_context: {"+onDemand+"}, "+noResumption, ""), "", ""},
		{"must staple without staple", serverTLS("", "ocsp_staple_policy: MUST_STAPLE"),
			cert0 + ".ocsp_staple", "Required OCSP response is missing from TLS context"},
		{"must staple", tlsListener("common_tls_context: {tls_certificates: [{certificate_chain: {filename: /c.pem}, private_key: {filename: /k.pem}, ocsp_staple: {filename: /o.der}}]}, ocsp_staple_policy: MUST_STAPLE", ""), "", ""},
		{"must staple from sds", tlsListener("common_tls_context: {tls_certificate_sds_secret_configs: [{name: s, sds_config: {path_config_source: {path: /s.yaml}}}]}, ocsp_staple_policy: MUST_STAPLE", ""), "", ""},

		{"auto sni san without validation context", tlsCluster("auto_sni_san_validation: true"),
			utsPath + ".auto_sni_san_validation", "'auto_sni_san_validation' was configured without a validation context"},
		{"auto sni san without ca", tlsCluster("auto_sni_san_validation: true, common_tls_context: {validation_context: {verify_certificate_hash: ['" + sha256Hex + "']}}"),
			utsPath + ".common_tls_context.validation_context.trusted_ca", "'auto_sni_san_validation' was configured without configuring a trusted CA"},
		{"auto sni san", tlsCluster("auto_sni_san_validation: true, common_tls_context: {validation_context: " + caPair + "}"), "", ""},
		{"client two certificates with a selector", tlsCluster("common_tls_context: {tls_certificates: [" + certPair + ", " + certPair + "], " + onDemand + "}"),
			utsPath + ".common_tls_context.tls_certificates", "Client TLS context supports only a single certificate"},
		{"client one certificate with a selector", tlsCluster("common_tls_context: {tls_certificates: [" + certPair + "], " + onDemand + "}"), "", ""},

		{"unknown static session ticket keys", serverTLS("", "session_ticket_keys_sds_secret_config: {name: k}"),
			tsPath + ".session_ticket_keys_sds_secret_config.name", "Unknown tls session ticket keys: k"},
		{"short inline session ticket key", serverTLS("", "session_ticket_keys: {keys: [{inline_string: short}]}"),
			tsPath + ".session_ticket_keys.keys[0]", "Incorrect TLS session ticket key length. Length 5, expected length 80."},
		{"short static session ticket key", tlsListener("common_tls_context: {tls_certificates: ["+certPair+"]}, session_ticket_keys_sds_secret_config: {name: k}", "  secrets: [{name: k, session_ticket_keys: {keys: [{inline_bytes: AAAA}]}}]\n"),
			"static_resources.secrets[0].session_ticket_keys.keys[0]", "Incorrect TLS session ticket key length. Length 3, expected length 80."},
		{"inline session ticket key", serverTLS("", "session_ticket_keys: {keys: [{inline_string: '"+strings.Repeat("k", 80)+"'}, {filename: /k2}]}"), "", ""},

		{"on demand selector with resumption", tlsListener("common_tls_context: {"+onDemand+"}", ""),
			tsPath + ".common_tls_context.custom_tls_certificate_selector", "On demand certificates are not integrated with session resumption support."},
		{"on demand selector on quic", listener("filter_chains:\n- transport_socket: {name: quic, typed_config: {'@type': type.googleapis.com/envoy.extensions.transport_sockets.quic.v3.QuicDownstreamTransport, " +
			"downstream_tls_context: {common_tls_context: {" + onDemand + "}, " + noResumption + "}}}\n  filters: [{name: tcp, typed_config: {'@type': " + tcpType + ", stat_prefix: t, cluster: app}}]\n"),
			"static_resources.listeners[0].filter_chains[0].transport_socket.typed_config<QuicDownstreamTransport>.downstream_tls_context.common_tls_context.custom_tls_certificate_selector", "Does not support QUIC listeners."},

		{"unknown cipher", serverTLS(", tls_params: {cipher_suites: [ECDHE-RSA-AES128-GCM-SHA256, ECDHE-RSA-AES999-GCM]}", ""),
			tsPath + ".common_tls_context.tls_params.cipher_suites", "The following ciphers were rejected when tried individually: ECDHE-RSA-AES999-GCM"},
		{"tls 1.3 ciphers only", serverTLS(", tls_params: {cipher_suites: [TLS_AES_128_GCM_SHA256, TLS_CHACHA20_POLY1305_SHA256]}", ""),
			tsPath + ".common_tls_context.tls_params.cipher_suites", "rejected when tried individually: TLS_AES_128_GCM_SHA256, TLS_CHACHA20_POLY1305_SHA256"},
		{"cipher groups and operators", serverTLS(", tls_params: {cipher_suites: ['[ECDHE-ECDSA-AES128-GCM-SHA256|ECDHE-ECDSA-CHACHA20-POLY1305]', 'ECDHE+AESGCM', TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_AES_128_GCM_SHA256]}", ""), "", ""},
		{"cipher exclusions", serverTLS(", tls_params: {cipher_suites: ['ALL', '!3DES', '-kRSA', '+AES256', '@STRENGTH']}", ""), "", ""},
		{"cipher operator in a group", serverTLS(", tls_params: {cipher_suites: ['[ECDHE-ECDSA-AES128-GCM-SHA256|!ECDHE-ECDSA-CHACHA20-POLY1305]']}", ""),
			tsPath + ".common_tls_context.tls_params.cipher_suites", "Failed to initialize cipher suites"},
		{"unknown curve", tlsCluster("common_tls_context: {tls_params: {ecdh_curves: [P-256, P-999]}}"),
			utsPath + ".common_tls_context.tls_params.ecdh_curves", "Failed to initialize ECDH curves P-256:P-999"},
		{"curves", tlsCluster("common_tls_context: {tls_params: {ecdh_curves: [X25519MLKEM768, x25519, prime256v1]}}"), "", ""},
		{"unknown signature algorithm", tlsCluster("common_tls_context: {tls_params: {signature_algorithms: [rsa_pss_rsae_sha256, rsa_pss_sha256]}}"),
			utsPath + ".common_tls_context.tls_params.signature_algorithms", "Failed to initialize TLS signature algorithms rsa_pss_rsae_sha256:rsa_pss_sha256"},
		{"signature algorithm twice", tlsCluster("common_tls_context: {tls_params: {signature_algorithms: ['RSA+SHA256', rsa_pkcs1_sha256]}}"),
			utsPath + ".common_tls_context.tls_params.signature_algorithms", "Failed to initialize TLS signature algorithms RSA+SHA256:rsa_pkcs1_sha256"},
		{"signature algorithms", tlsCluster("common_tls_context: {tls_params: {signature_algorithms: [ecdsa_secp256r1_sha256, 'RSA-PSS+SHA384', ed25519]}}"), "", ""},
		{"alpn protocol too long", serverTLS(", alpn_protocols: [h2, "+long+"]", ""),
			tsPath + ".common_tls_context.alpn_protocols[1]", "Invalid ALPN protocol string"},
		{"alpn protocols too long together", serverTLS(", alpn_protocols: ["+strings.Repeat("'"+long[:255]+"', ", 256)+"h2]", ""),
			tsPath + ".common_tls_context.alpn_protocols", "Invalid ALPN protocol string (the list has at most 65534 bytes)"},
		{"alpn protocols", serverTLS(", alpn_protocols: [h2, http/1.1, '"+long[:255]+"']", ""), "", ""},
		{"bad cipher in a context waiting for sds", tlsCluster("common_tls_context: {tls_params: {cipher_suites: [NOPE]}, validation_context_sds_secret_config: {name: ca, sds_config: {path_config_source: {path: /ca.yaml}}}}"), "", ""},

		{"unknown validator name", tlsCluster("common_tls_context: {validation_context: {trusted_ca: {filename: /ca.pem}, custom_validator_config: {name: spiffe, typed_config: {'@type': " + spiffeType + ", trust_domains: [{name: a, trust_bundle: {filename: /a.pem}}]}}}}"),
			utsPath + ".common_tls_context.validation_context.custom_validator_config.name", "Failed to get certificate validator factory for spiffe"},
		{"spiffe validator", tlsCluster("common_tls_context: {validation_context: {custom_validator_config: {name: envoy.tls.cert_validator.spiffe, typed_config: {'@type': " + spiffeType + ", trust_domains: [{name: a, trust_bundle: {filename: /a.pem}}, {name: b, trust_bundle: {filename: /b.pem}}]}}}}"), "", ""},
		{"spiffe trust domain twice", tlsCluster("common_tls_context: {validation_context: {custom_validator_config: {name: envoy.tls.cert_validator.spiffe, typed_config: {'@type': " + spiffeType + ", trust_domains: [{name: a, trust_bundle: {filename: /a.pem}}, {name: a, trust_bundle: {filename: /b.pem}}]}}}}"),
			utsPath + ".common_tls_context.validation_context.custom_validator_config.typed_config<SPIFFECertValidatorConfig>.trust_domains[1].name", "Multiple trust bundles are given for one trust domain for a"},
		{"other name san without oid", tlsCluster("common_tls_context: {validation_context: {trusted_ca: {filename: /ca.pem}, match_typed_subject_alt_names: [{san_type: OTHER_NAME, matcher: {exact: a}}]}}"),
			utsPath + ".common_tls_context.validation_context.match_typed_subject_alt_names[0].oid", "Failed to create string SAN matcher of type OTHER_NAME"},
		{"other name san", tlsCluster("common_tls_context: {validation_context: {trusted_ca: {filename: /ca.pem}, match_typed_subject_alt_names: [{san_type: OTHER_NAME, oid: 1.3.6.1.4.1.311.20.2.3, matcher: {exact: a}}]}}"), "", ""},
		{"certificate hash not hex", tlsCluster("common_tls_context: {validation_context: {verify_certificate_hash: ['" + strings.Repeat("z", 64) + "']}}"),
			utsPath + ".common_tls_context.validation_context.verify_certificate_hash[0]", "Invalid hex-encoded SHA-256 zzzz"},
		{"certificate hash with colons", tlsCluster("common_tls_context: {validation_context: {verify_certificate_hash: ['" + colonHex + "']}}"), "", ""},
		{"certificate spki not base64", tlsCluster("common_tls_context: {validation_context: {verify_certificate_spki: ['" + strings.Repeat("A", 43) + "!']}}"),
			utsPath + ".common_tls_context.validation_context.verify_certificate_spki[0]", "Invalid base64-encoded SHA-256"},
		{"certificate spki", tlsCluster("common_tls_context: {validation_context: {verify_certificate_spki: ['" + strings.Repeat("A", 43) + "=']}}"), "", ""},
		{"certificate hash from a static secret", tlsCluster("common_tls_context: {validation_context_sds_secret_config: {name: v}}") + "  secrets: [{name: v, validation_context: {verify_certificate_hash: ['" + strings.Repeat("z", 64) + "']}}]\n",
			"static_resources.secrets[0].validation_context.verify_certificate_hash[0]", "Invalid hex-encoded SHA-256 zzzz"},
		{"certificate hash in a combined context", tlsCluster("common_tls_context: {combined_validation_context: {default_validation_context: {verify_certificate_hash: ['"+strings.Repeat("z", 64)+"']}, validation_context_sds_secret_config: {name: v}}}") + "  secrets: [{name: v, validation_context: " + caPair + "}]\n",
			utsPath + ".common_tls_context.combined_validation_context", "Invalid hex-encoded SHA-256 zzzz"},

		{"secret without type", "static_resources:\n  secrets: [{name: s}]\n", "static_resources.secrets[0]", "Secret type not implemented"},
		{"internal upstream request metadata", cluster("type: STATIC, transport_socket: {name: iu, typed_config: {'@type': type.googleapis.com/envoy.extensions.transport_sockets.internal_upstream.v3.InternalUpstreamTransport, passthrough_metadata: [{kind: {request: {}}, name: x}], transport_socket: {name: raw, typed_config: {'@type': type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer}}}}"),
			"static_resources.clusters[0].transport_socket.typed_config<InternalUpstreamTransport>.passthrough_metadata[0].kind", "metadata type is not supported: request"},
		{"internal upstream host metadata", cluster("type: STATIC, transport_socket: {name: iu, typed_config: {'@type': type.googleapis.com/envoy.extensions.transport_sockets.internal_upstream.v3.InternalUpstreamTransport, passthrough_metadata: [{kind: {host: {}}, name: x}], transport_socket: {name: raw, typed_config: {'@type': type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer}}}}"), "", ""},
	}
}

const (
	spiffeType = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.SPIFFECertValidatorConfig"
	colonHex   = "DF:6F:F7:2F:E9:11:65:21:26:8F:6F:2D:D4:96:6F:51:DF:47:98:83:FE:70:37:B3:9F:75:91:6A:C3:04:9D:1A"
)

func init() { registerCases(casesTLSMoreRules) }
