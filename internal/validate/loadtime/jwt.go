//go:build !appnet_lean

package loadtime

import (
	"encoding/base64"
	"encoding/json"
	"strings"

	jwtv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/jwt_authn/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// JWT authentication (source/extensions/filters/http/jwt_authn): providers, rules and verifiers are built with
// the filter config at load.

const (
	jwtConfigSource   = "source/extensions/filters/http/jwt_authn/filter_config.cc"
	jwtVerifierSource = "source/extensions/filters/http/jwt_authn/verifier.cc"
	jwtFactorySource  = "source/extensions/filters/http/jwt_authn/filter_factory.cc"
)

func init() {
	register("envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication", jwtLocalJWKS, jwtProviderURIs, jwtRequirements)
}

// jwtProviderURIs: a remote JWKS is fetched from an absolute URL.
// Envoy: source/extensions/filters/http/jwt_authn/filter_config.cc:37 [http-filters-18e0a287] — "Provider '<p>' has
// an invalid URI: '<uri>'".
func jwtProviderURIs(c *Context, m protoreflect.Message) {
	j, ok := m.Interface().(*jwtv3.JwtAuthentication)
	if !ok {
		return
	}
	for _, name := range sortedKeys(j.GetProviders()) {
		remote := j.GetProviders()[name].GetRemoteJwks()
		if remote == nil {
			continue
		}
		if problem := absoluteURLProblem(remote.GetHttpUri().GetUri()); problem != "" {
			c.envoyf(c.at("providers")+"["+quote(name)+"].remote_jwks.http_uri.uri", jwtConfigSource,
				"Provider '%s' has an invalid URI: '%s' (%s)", name, remote.GetHttpUri().GetUri(), problem)
		}
	}
}

// jwtRequirements: rules name requirements of requirement_map, and every requirement (of the map, the rules and
// the filter state rules, nested in any and all lists) names configured providers.
// Envoy: source/extensions/filters/http/jwt_authn/filter_config.cc:64 [http-filters-4147f63e] — "Wrong
// requirement_name: <n>. It should be one of [<names>]"; verifier.cc:455 [http-filters-47793719] — "Required
// provider ['<p>'] is not configured.".
func jwtRequirements(c *Context, m protoreflect.Message) {
	j, ok := m.Interface().(*jwtv3.JwtAuthentication)
	if !ok {
		return
	}
	providers := j.GetProviders()
	var check func(path func() string, r *jwtv3.JwtRequirement)
	check = func(path func() string, r *jwtv3.JwtRequirement) {
		name, field := r.GetProviderName(), ".provider_name"
		if pa := r.GetProviderAndAudiences(); pa != nil {
			name, field = pa.GetProviderName(), ".provider_and_audiences.provider_name"
		}
		if _, named := r.GetRequiresType().(*jwtv3.JwtRequirement_ProviderName); named || r.GetProviderAndAudiences() != nil {
			if _, ok := providers[name]; !ok {
				c.envoyf(path()+field, jwtVerifierSource, "Required provider ['%s'] is not configured.", name)
			}
		}
		lists := map[string][]*jwtv3.JwtRequirement{".requires_any": r.GetRequiresAny().GetRequirements(),
			".requires_all": r.GetRequiresAll().GetRequirements()}
		for _, list := range []string{".requires_any", ".requires_all"} {
			for i, sub := range lists[list] {
				check(func() string { return index(path()+list+".requirements", i) }, sub)
			}
		}
	}
	names := sortedKeys(j.GetRequirementMap())
	for _, n := range names {
		check(func() string { return c.at("requirement_map") + "[" + quote(n) + "]" }, j.GetRequirementMap()[n])
	}
	for i, rule := range j.GetRules() {
		at := func() string { return index(c.at("rules"), i) }
		switch t := rule.GetRequirementType().(type) {
		case *jwtv3.RequirementRule_Requires:
			check(func() string { return at() + ".requires" }, t.Requires)
		case *jwtv3.RequirementRule_RequirementName:
			if _, ok := j.GetRequirementMap()[t.RequirementName]; !ok {
				c.envoyf(at()+".requirement_name", jwtConfigSource, "Wrong requirement_name: %s. It should be one of [%s]",
					t.RequirementName, joinComma(names))
			}
		}
	}
	fs := j.GetFilterStateRules().GetRequires()
	for _, n := range sortedKeys(fs) {
		check(func() string { return c.at("filter_state_rules.requires") + "[" + quote(n) + "]" }, fs[n])
	}
}

// jwtLocalJWKS: an inline local JWKS is a JSON Web Key Set with at least one usable key (a file is the host's).
// Keys are vetted as jwt_verify_lib's Jwks::createFromJwksCore does, as far as that is certain without a crypto
// library: a key whose curve point may be invalid, or a set of X.509 certificates, counts as usable.
// Envoy: source/extensions/filters/http/jwt_authn/filter_factory.cc:32 [http-filters-a3d4db74] — "Provider '<p>' in
// jwt_authn config has invalid local jwks: <jwt_verify_lib status>".
func jwtLocalJWKS(c *Context, m protoreflect.Message) {
	j, ok := m.Interface().(*jwtv3.JwtAuthentication)
	if !ok {
		return
	}
	for _, name := range sortedKeys(j.GetProviders()) {
		text, field, inline := dataSourceText(j.GetProviders()[name].GetLocalJwks())
		if !inline || text == "" {
			continue
		}
		if problem := jwksProblem(text); problem != "" {
			c.envoyf(c.at("providers")+"["+quote(name)+"].local_jwks."+field, jwtFactorySource,
				"Provider '%s' in jwt_authn config has invalid local jwks: %s", name, problem)
		}
	}
}

// jwksProblem returns jwt_verify_lib's status string for a JWKS that certainly has no usable key, or "".
func jwksProblem(text string) string {
	var set map[string]any
	if err := json.Unmarshal([]byte(text), &set); err != nil {
		// protobuf's JsonStringToMessage reads legacy JSON too (single quotes, control characters in strings, bare
		// keys): only what no leniency repairs is certain, a document that is not an object or ends too soon.
		if t := strings.TrimLeft(text, " \t\r\n"); !strings.HasPrefix(t, "{") || strings.Contains(err.Error(), "unexpected end of JSON input") {
			return "Jwks is an invalid JSON"
		}
		return ""
	}
	keys, found := set["keys"]
	if !found {
		if x509Map(set) {
			return "" // a kid to X.509 certificate map: the certificates are the crypto library's to judge
		}
		return "Jwks does not have [keys] field"
	}
	list, isList := keys.([]any)
	if !isList {
		return "[keys] in Jwks is not an array"
	}
	first := ""
	for _, k := range list {
		key, isObject := k.(map[string]any)
		if !isObject {
			continue // Envoy skips what is not an object
		}
		problem := jwkProblem(key)
		if problem == "" {
			return ""
		}
		if first == "" {
			first = problem
		}
	}
	if first == "" {
		first = "Jwks doesn't have any valid public key"
	}
	return first
}

// x509Map mirrors jwt_verify_lib's shouldCheckX509: a non-empty object whose every value is a PEM certificate.
func x509Map(set map[string]any) bool {
	for kid, v := range set {
		cert, isString := v.(string)
		if kid == "" || !isString || !strings.HasPrefix(cert, "-----BEGIN CERTIFICATE-----\n") ||
			!strings.HasSuffix(cert, "\n-----END CERTIFICATE-----\n") {
			return false
		}
	}
	return len(set) > 0
}

// jwkProblem returns why one JSON Web Key is certainly unusable, or "" when it may be usable.
func jwkProblem(key map[string]any) string {
	str := func(field string) (string, string) { // value, and "missing" or "wrong" when it is not a string
		v, ok := key[field]
		if !ok {
			return "", "missing"
		}
		s, ok := v.(string)
		if !ok {
			return "", "wrong"
		}
		return s, ""
	}
	kty, bad := str("kty")
	switch bad {
	case "missing":
		return "[kty] is missing in [keys]"
	case "wrong":
		return "[kty] is bad in [keys]"
	}
	alg, _ := str("alg")
	switch kty {
	case "RSA":
		if alg != "" && !strings.HasPrefix(alg, "RS") {
			return "[alg] is not started with [RS] for a RSA key"
		}
		n, badN := str("n")
		e, badE := str("e")
		switch {
		case badN != "":
			return "[n] field is " + map[string]string{"missing": "missing", "wrong": "not string"}[badN] + " for a RSA key"
		case badE != "":
			return "[e] field is " + map[string]string{"missing": "missing", "wrong": "not string"}[badE] + " for a RSA key"
		}
		_, okN := webSafeBase64(n)
		exp, okE := webSafeBase64(e)
		if okN == certainlyBad || okE == certainlyBad || okE == decoded && !standardExponent(exp) {
			return "Jwks RSA [n] or [e] field is missing or has a parse error"
		}
	case "oct":
		if alg != "" && alg != "HS256" && alg != "HS384" && alg != "HS512" {
			return "[alg] does not start with [HS] for an HMAC key"
		}
		k, badK := str("k")
		switch badK {
		case "missing":
			return "[k] field is missing for an HMAC key"
		case "wrong":
			return "[k] field is not string for an HMAC key"
		}
		if b, ok := webSafeBase64(k); ok == certainlyBad || ok == decoded && len(b) == 0 {
			return "Jwks Oct key is an invalid Base64"
		}
	case "EC", "OKP":
		return "" // curves and points are the crypto library's to judge
	default:
		return "[kty] is not supported in [keys]"
	}
	return ""
}

// base64Verdict is what can be said of a string absl::WebSafeBase64Unescape is given.
type base64Verdict int

const (
	unsure       base64Verdict = iota // white space or padding oddities: left alone
	decoded                           // certainly decodes
	certainlyBad                      // certainly does not
)

func webSafeBase64(s string) ([]byte, base64Verdict) {
	if strings.ContainsAny(s, " \t\r\n=") {
		return nil, unsure
	}
	if strings.ContainsAny(s, "+/") || strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '+' || r == '/')
	}) >= 0 {
		return nil, certainlyBad
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		if len(s)%4 == 1 {
			return nil, certainlyBad
		}
		return nil, unsure
	}
	return b, decoded
}

// standardExponent: jwt_verify_lib takes RSA keys whose public exponent is 3 or 65537 only.
func standardExponent(e []byte) bool {
	v := 0
	for _, b := range e {
		if v > 65537 {
			return false
		}
		v = v<<8 | int(b)
	}
	return v == 3 || v == 65537
}

func joinComma(s []string) string { return strings.Join(s, ",") }
