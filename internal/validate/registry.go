package validate

import (
	"slices"

	"github.com/appnet/appnet-agent/internal/validate/loadtime"
)

// ownRules are the checks of this package that the inventory of Envoy's checks (docs/envoy-checks) can name, as
// function values so that a renamed check does not leave a stale name behind.
var ownRules = []any{
	Decode,                      // decoding: unknown fields, wrong types, unresolvable @type (Envoy's JSON parser)
	pgvProblems,                 // protoc-gen-validate rules, on the bootstrap and inside every payload
	(*checker).field,            // deprecated fields and enum values Envoy disallows by default
	(*checker).checkNames,       // duplicate cluster names
	(*checker).checkAddresses,   // listeners on the admin address or on each other's
	(*checker).checkClusterRefs, // clusters that references name and that do not exist
	(*checker).adsSource,        // "ads: {}" without ads_config
	nodeProblems,                // node id and cluster with xDS
	(*checker).awsIam,           // the removed AwsIamConfig gRPC credentials
}

// RuleNames returns the names of every check the validator makes ("validate.<function>" for this package's,
// "loadtime.<function>" for Envoy's load-time rules), sorted.
func RuleNames() []string {
	names := loadtime.RuleNames()
	for _, f := range ownRules {
		names = append(names, loadtime.FuncName(f))
	}
	slices.Sort(names)
	return slices.Compact(names)
}
