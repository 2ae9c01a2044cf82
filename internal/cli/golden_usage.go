package cli

// goldenUsage is in both builds: the lean build's help lists every command.
var goldenUsage = usage{
	name:     "golden",
	synopsis: "[--update] [--template-dir DIR] [--facts FILE] [--junit FILE] CASES...",
	summary:  "check NAME.env cases against NAME.yaml / NAME.error",
	details: `CASES are directories (every NAME.env directly in them) or case files. Each case is rendered
from its NAME.env alone, with the platform facts of --facts (overridden by NAME.facts.json), and
compared with NAME.yaml (the expected bootstrap, compared as protos) or NAME.error (lines the
error must contain). Exit 0 when every case passed, 1 when any failed, 2 for usage errors.`,
	examples: []string{
		"appnet-agent golden --template-dir templates --facts facts.json cases",
		"appnet-agent golden --template-dir templates --facts facts.json --junit report.xml cases",
		"appnet-agent golden --update --template-dir templates --facts facts.json cases   # then review the diff",
	},
}
