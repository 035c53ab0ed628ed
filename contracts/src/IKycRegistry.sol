// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @dev Revocation reason: the holder revoked their own attestation (signed with the wallet).
uint8 constant REASON_HOLDER = 1;
/// @dev Revocation reason: the operator revoked it (abuse, error, court order, ...).
uint8 constant REASON_OPERATOR = 2;
/// @dev Revocation reason: the card's JPKI certificate was revoked (CRL/OCSP).
uint8 constant REASON_CERTIFICATE_REVOKED = 3;
/// @dev Revocation reason: the card's certificate was superseded (renewal); a new record may follow.
uint8 constant REASON_CERTIFICATE_SUPERSEDED = 4;
/// @dev Revocation reason: the person's data was erased at their request.
uint8 constant REASON_ERASURE = 5;
/// @dev Revocation reason: rotated out by the uniqueness policy (the person verified another wallet).
uint8 constant REASON_ROTATED = 6;

/// @dev Claim bit 0: a unique person (one person holds at most the operator's limit of live
/// wallets). Every honnin attestation carries it.
uint32 constant CLAIM_UNIQUE_PERSON = 1;
/// @dev Claim bit 1: the person was at least 18 (adult in Japan) when verified, from the card's
/// signing certificate. A person under 18 gains it only by verifying again after the birthday.
uint32 constant CLAIM_AGE_OVER_18 = 2;
/// @dev Claim bit 2: the person was at least 20 (alcohol, tobacco, public gambling in Japan)
/// when verified, from the card's signing certificate.
uint32 constant CLAIM_AGE_OVER_20 = 4;

/// @title IKycRegistry
/// @notice The honnin KYC registry: one attestation per wallet saying that a live Japanese My Number
/// card's holder proved control of the wallet. Nothing personal is stored: a level, a claims bitmap,
/// two timestamps and a revocation reason.
/// @dev A dApp asks {isVerified} (or {hasClaims} for claims such as {CLAIM_AGE_OVER_18}); honnin's
/// chain writer calls {attest} and {revoke} in batches. Claim bits: 1 = unique person, 2 = age
/// over 18, 4 = age over 20 (the `CLAIM_*` constants); other bits are reserved.
/// Revocation reason codes (the `reason` of {revoke}, {Revoked} and {Attestation.revocationReason}):
/// 1 = holder, 2 = operator, 3 = certificate revoked, 4 = certificate superseded, 5 = erasure,
/// 6 = rotated out by the uniqueness policy. 0 means "not revoked" and is refused by {revoke}, as
/// is any code above 6.
///
/// Scopes: besides the one global record per wallet, the registry keeps records per **scope**, one
/// per dApp that the operator registered, so that a person may attest a different wallet in each
/// dApp and no two dApps can link them (the service enforces its uniqueness policy per scope from
/// a per-scope pseudonym). A scope is a 32-byte id derived from the scope's registered name
/// (1 to 64 characters `[a-z0-9.-]`, the first `[a-z0-9]`, e.g. `kyc-drop`):
/// `keccak256(abi.encodePacked("honnin/v1/scope", bytes1(0), name))`, i.e. the keccak-256 of the
/// ASCII bytes `honnin/v1/scope`, one zero byte, and the name; in a constant,
/// `keccak256("honnin/v1/scope\x00kyc-drop")`. The zero id is never a scope: every scoped
/// function reverts with {KycRegistryInvalidScope} for it. A scoped record has the same fields,
/// the same slot layout and the same rules (stale skip, expiry, revocation, roles, pause) as the
/// global one, per (scope, wallet); the scoped functions ({attestScoped}, {revokeScoped},
/// {isVerified(address,bytes32)}, {hasClaims(address,bytes32,uint32)},
/// {attestationOf(address,bytes32)}) never read or write the global record, and the global ones
/// never read or write a scoped record. A wallet may hold a global record and records in any
/// number of scopes, each with its own state.
interface IKycRegistry {
    /// @notice One attestation to write, as the attester sends it.
    /// @param wallet The attested wallet (EOA or contract wallet); never the zero address.
    /// @param level The assurance level, at least 1 (a dApp may require a minimum).
    /// @param claims A bitmap of claims proven with the attestation (the `CLAIM_*` constants).
    /// @param issuedAt When the service issued the attestation (unix seconds). Supplied by the
    /// service, not taken from the block, so resending a batch writes the same state; it also
    /// orders records for one wallet (see {attest}).
    /// @param expiresAt Unix seconds after which the record no longer verifies; must be later than
    /// both `issuedAt` and the block's timestamp.
    struct Record {
        address wallet;
        uint8 level;
        uint32 claims;
        uint40 issuedAt;
        uint40 expiresAt;
    }

    /// @notice What the registry holds for a wallet. All zero when it holds nothing.
    /// @param level The assurance level.
    /// @param claims The claims bitmap.
    /// @param issuedAt When the service issued the attestation (unix seconds).
    /// @param expiresAt When the attestation expires (unix seconds).
    /// @param revocationReason Why it was revoked (see the codes above); 0 while not revoked.
    /// @param revoked Whether it was revoked (`revocationReason != 0`).
    struct Attestation {
        uint8 level;
        uint32 claims;
        uint40 issuedAt;
        uint40 expiresAt;
        uint8 revocationReason;
        bool revoked;
    }

    /// @notice A record was written for `wallet`, replacing any earlier one.
    /// @param wallet The attested wallet.
    /// @param level The assurance level.
    /// @param expiresAt When the new record expires (unix seconds).
    /// @dev Kept to two data words for gas; {attestationOf} has the full record.
    event Attested(address indexed wallet, uint8 level, uint40 expiresAt);

    /// @notice The record of `wallet` was revoked.
    /// @param wallet The wallet whose record was revoked.
    /// @param reason The revocation reason code.
    event Revoked(address indexed wallet, uint8 reason);

    /// @notice A record was written for `wallet` in `scope`, replacing any earlier one there.
    /// @param scope The scope id.
    /// @param wallet The attested wallet.
    /// @param level The assurance level.
    /// @param expiresAt When the new record expires (unix seconds).
    /// @dev Kept to two data words for gas; {attestationOf(address,bytes32)} has the full record.
    event ScopedAttested(bytes32 indexed scope, address indexed wallet, uint8 level, uint40 expiresAt);

    /// @notice The record of `wallet` in `scope` was revoked.
    /// @param scope The scope id.
    /// @param wallet The wallet whose record was revoked.
    /// @param reason The revocation reason code.
    event ScopedRevoked(bytes32 indexed scope, address indexed wallet, uint8 reason);

    /// @notice A record names the zero address.
    error KycRegistryInvalidWallet(address wallet);

    /// @notice A record's level is 0.
    error KycRegistryInvalidLevel(address wallet, uint8 level);

    /// @notice A record's `expiresAt` is not later than both the block's timestamp and its `issuedAt`.
    error KycRegistryInvalidExpiry(address wallet, uint40 issuedAt, uint40 expiresAt);

    /// @notice A revocation reason outside 1..6.
    error KycRegistryInvalidRevocationReason(uint8 reason);

    /// @notice {attest}, {revoke}, {attestScoped} or {revokeScoped} was called with nothing in it.
    error KycRegistryEmptyBatch();

    /// @notice A role this registry does not know (it has only admin, attester and revoker).
    error KycRegistryUnknownRole(bytes32 role);

    /// @notice The zero address was given where an account is needed (the constructor's admin).
    error KycRegistryInvalidAccount(address account);

    /// @notice A scoped function was given the zero scope id, which is never a scope (the global
    /// record has functions of its own).
    error KycRegistryInvalidScope();

    /// @notice Writes a batch of records. Caller needs the attester role; not while paused.
    /// @dev Each record replaces the wallet's earlier record (renewal, re-verification after a
    /// revocation) when its `issuedAt` is later; a record whose `issuedAt` is not later than the
    /// stored one is stale and skipped without an event. Sending the same batch twice therefore
    /// leaves the same state, even if a revocation landed in between (the revocation stays).
    /// Emits {Attested} for every record written. Reverts, writing nothing, on a zero wallet,
    /// a level of 0 or an `expiresAt` that is not later than the block's timestamp and
    /// `issuedAt` (stale records are skipped before the expiry check, so an old batch can be
    /// resent after its records expired).
    /// @param records The records to write.
    function attest(Record[] calldata records) external;

    /// @notice Revokes the records of `wallets` with `reason`. Caller needs the revoker role; not
    /// while paused.
    /// @dev Rule for wallets with no record: they are skipped (no state change, no event), so a
    /// batch is never blocked by one wallet whose attestation never reached the chain, and no
    /// "revoked" record is ever invented. A wallet already revoked gets the new reason and a new
    /// event. Emits {Revoked} for every wallet with a record.
    /// @param wallets The wallets whose records to revoke.
    /// @param reason The revocation reason code, 1..6.
    function revoke(address[] calldata wallets, uint8 reason) external;

    /// @notice Whether `wallet` has a record that is not revoked and not expired at the block's
    /// timestamp.
    /// @param wallet The wallet to ask about.
    /// @return True when verified.
    function isVerified(address wallet) external view returns (bool);

    /// @notice Like {isVerified(address)}, and the record's level is at least `minLevel`.
    /// @param wallet The wallet to ask about.
    /// @param minLevel The lowest acceptable level.
    /// @return True when verified at `minLevel` or above.
    function isVerified(address wallet, uint8 minLevel) external view returns (bool);

    /// @notice Like {isVerified(address)}, and the record holds every claim bit of `claims`
    /// (e.g. `CLAIM_AGE_OVER_18`, or `CLAIM_AGE_OVER_18 | CLAIM_AGE_OVER_20`). `claims` = 0 is
    /// {isVerified(address)}.
    /// @param wallet The wallet to ask about.
    /// @param claims The claim bits that must all be set.
    /// @return True when verified with all of `claims`.
    function hasClaims(address wallet, uint32 claims) external view returns (bool);

    /// @notice The record of `wallet` as stored, whatever its state; all zero when none.
    /// @param wallet The wallet to ask about.
    /// @return The stored attestation.
    function attestationOf(address wallet) external view returns (Attestation memory);

    /// @notice Writes a batch of records in `scope`. Caller needs the attester role; not while
    /// paused.
    /// @dev {attest}'s rules, per (scope, wallet): a record replaces the wallet's record in
    /// `scope` when its `issuedAt` is later and is skipped as stale otherwise (no event); the
    /// whole batch reverts on a zero wallet, a level of 0, or an `expiresAt` not later than the
    /// block's timestamp and `issuedAt` (checked after the stale skip). The wallet's global record
    /// and its records in other scopes are untouched. Emits {ScopedAttested} for every record
    /// written. Reverts with {KycRegistryInvalidScope} when `scope` is 0 and with
    /// {KycRegistryEmptyBatch} on an empty batch.
    /// @param scope The scope id (see the derivation above); not 0.
    /// @param records The records to write.
    function attestScoped(bytes32 scope, Record[] calldata records) external;

    /// @notice Revokes the records of `wallets` in `scope` with `reason`. Caller needs the revoker
    /// role; not while paused.
    /// @dev {revoke}'s rules, per (scope, wallet): wallets without a record in `scope` are skipped
    /// (no state change, no event), a wallet already revoked there gets the new reason. The
    /// wallets' global records and their records in other scopes are untouched. Emits
    /// {ScopedRevoked} for every wallet with a record in `scope`. Reverts with
    /// {KycRegistryInvalidScope} when `scope` is 0.
    /// @param scope The scope id; not 0.
    /// @param wallets The wallets whose records in `scope` to revoke.
    /// @param reason The revocation reason code, 1..6.
    function revokeScoped(bytes32 scope, address[] calldata wallets, uint8 reason) external;

    /// @notice Whether `wallet` has a record in `scope` that is not revoked and not expired at the
    /// block's timestamp. The global record does not count.
    /// @dev Reverts with {KycRegistryInvalidScope} when `scope` is 0: a caller that passes 0 for
    /// "any" or "global" learns it at once instead of reading `false` forever. A Solidity caller
    /// asking {isVerified(address,uint8)} with a literal 0 must write `uint8(0)` (a zero literal
    /// fits both overloads).
    /// @param wallet The wallet to ask about.
    /// @param scope The scope id; not 0.
    /// @return True when verified in `scope`.
    function isVerified(address wallet, bytes32 scope) external view returns (bool);

    /// @notice Like {isVerified(address,bytes32)}, and the record in `scope` holds every claim bit
    /// of `claims`. `claims` = 0 is {isVerified(address,bytes32)}.
    /// @param wallet The wallet to ask about.
    /// @param scope The scope id; not 0 (reverts with {KycRegistryInvalidScope}).
    /// @param claims The claim bits that must all be set.
    /// @return True when verified in `scope` with all of `claims`.
    function hasClaims(address wallet, bytes32 scope, uint32 claims) external view returns (bool);

    /// @notice The record of `wallet` in `scope` as stored, whatever its state; all zero when none.
    /// @param wallet The wallet to ask about.
    /// @param scope The scope id; not 0 (reverts with {KycRegistryInvalidScope}).
    /// @return The stored attestation in `scope`.
    function attestationOf(address wallet, bytes32 scope) external view returns (Attestation memory);
}
