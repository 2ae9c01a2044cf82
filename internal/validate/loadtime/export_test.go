package loadtime

// Exported for the external tests, which link every API package through package validate.
var (
	AllSlots         = allSlots
	ExtensionsByType = extensionsByType
)
