package ldap

import "strconv"

// Result codes of LDAPResult (RFC 4511 §4.1.9, Appendix A) that the
// dialogue acts on.
const (
	codeSuccess                 = 0
	codeOperationsError         = 1
	codeProtocolError           = 2
	codeStrongerAuthRequired    = 8
	codeConfidentialityRequired = 13
	codeNoSuchObject            = 32
	codeInvalidDNSyntax         = 34
	codeInappropriateAuth       = 48
	codeInvalidCredentials      = 49
	codeInsufficientAccess      = 50
	codeBusy                    = 51
	codeUnavailable             = 52
	codeUnwillingToPerform      = 53
)

// codeNames are the names RFC 4511 Appendix A gives the result codes.
var codeNames = map[int64]string{
	0: "success", 1: "operationsError", 2: "protocolError", 3: "timeLimitExceeded", 4: "sizeLimitExceeded",
	5: "compareFalse", 6: "compareTrue", 7: "authMethodNotSupported", 8: "strongerAuthRequired", 10: "referral",
	11: "adminLimitExceeded", 12: "unavailableCriticalExtension", 13: "confidentialityRequired",
	14: "saslBindInProgress", 16: "noSuchAttribute", 17: "undefinedAttributeType", 18: "inappropriateMatching",
	19: "constraintViolation", 20: "attributeOrValueExists", 21: "invalidAttributeSyntax", 32: "noSuchObject",
	33: "aliasProblem", 34: "invalidDNSyntax", 36: "aliasDereferencingProblem", 48: "inappropriateAuthentication",
	49: "invalidCredentials", 50: "insufficientAccessRights", 51: "busy", 52: "unavailable", 53: "unwillingToPerform",
	54: "loopDetect", 64: "namingViolation", 65: "objectClassViolation", 66: "notAllowedOnNonLeaf",
	67: "notAllowedOnRDN", 68: "entryAlreadyExists", 69: "objectClassModsProhibited", 71: "affectsMultipleDSAs",
	80: "other",
}

// codeName names a result code: "invalidCredentials", or "result 4711".
func codeName(code int64) string {
	if n, ok := codeNames[code]; ok {
		return n
	}
	return "result " + strconv.FormatInt(code, 10)
}

// String renders a result for a Reply or a Reason: the code's name and
// the diagnostic message, as "unavailable: TLS not configured".
func (r result) String() string {
	if r.diagnostic == "" {
		return codeName(r.code)
	}
	return codeName(r.code) + ": " + r.diagnostic
}
