package loadtime

import (
	jwtv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/jwt_authn/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// JWT authentication (source/extensions/filters/http/jwt_authn): providers, rules and verifiers are built with
// the filter config at load.

const (
	jwtConfigSource   = "source/extensions/filters/http/jwt_authn/filter_config.cc"
	jwtVerifierSource = "source/extensions/filters/http/jwt_authn/verifier.cc"
)

func init() {
	register("envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication", jwtProviderURIs, jwtRequirements)
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
