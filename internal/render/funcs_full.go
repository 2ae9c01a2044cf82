//go:build !appnet_lean

package render

import (
	"maps"
	"text/template"

	"github.com/Masterminds/sprig/v3"
)

// leanBuild tells tests which build they run in: this one gives templates sprig's functions.
const leanBuild = false

// unsafeSprig lists sprig functions templates must not use: they bypass the typed config (env),
// touch the network (getHostByName), are non-deterministic (time, random, uuid, key generation),
// or quote unsafely (squote) or swallow errors (toJson is replaced by ours).
var unsafeSprig = []string{
	"env", "expandenv", "getHostByName", "now", "date", "dateInZone", "date_in_zone", "dateModify",
	"date_modify", "mustDateModify", "must_date_modify", "ago", "duration", "durationRound", "htmlDate",
	"htmlDateInZone", "unixEpoch", "toDate", "mustToDate", "randAlpha", "randAlphaNum", "randAscii",
	"randNumeric", "randBytes", "randInt", "shuffle", "uuidv4", "genPrivateKey", "genCA", "genCAWithKey",
	"genSelfSignedCert", "genSelfSignedCertWithKey", "genSignedCert", "genSignedCertWithKey", "derivePassword",
	"buildCustomCert", "squote", "toJson", "toPrettyJson", "toRawJson", "mustToJson", "mustToPrettyJson", "mustToRawJson",
}

// funcMap is what templates may call in the full build, which renders user templates
// (APPNET_TEMPLATE_DIR) too: sprig minus unsafeSprig, plus our own functions (ownFuncs).
func funcMap(include func(name string, data any) (string, error)) template.FuncMap {
	fm := sprig.TxtFuncMap()
	for _, name := range unsafeSprig {
		delete(fm, name)
	}
	maps.Copy(fm, ownFuncs(include))
	return fm
}
