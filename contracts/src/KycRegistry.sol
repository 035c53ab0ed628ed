// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";
import {IKycRegistry, REASON_ROTATED} from "./IKycRegistry.sol";

/// @title KycRegistry
/// @notice honnin's on-chain KYC registry. See {IKycRegistry}.
/// @dev Storage is laid out for gas:
/// - one slot per wallet: bits 0-7 level, 8-39 claims, 40-79 issuedAt, 80-119 expiresAt,
///   120-127 revocation reason (0 = not revoked). A record always has `expiresAt > 0`, so a zero
///   slot means "no record". Scoped records use the same slot layout in a second mapping keyed by
///   scope, then wallet; the global and the scoped paths run the same code over one table or the
///   other (a `mapping(address => uint256) storage` argument), so their rules cannot drift apart.
/// - one slot per account for roles (bit 0 admin, bit 1 attester, bit 2 revoker) that also mirrors
///   the pause flag (bit 255). {attest} and {revoke} thus pay one cold storage read for the role
///   check and the pause check together, instead of two. To keep the mirror exact, pausing and
///   unpausing rewrite the word of every account holding a role (a handful: they are listed in an
///   enumerable set), and a role granted while paused carries the flag.
/// Roles keep OpenZeppelin {AccessControl}'s interface, events and errors; only admin, attester and
/// revoker exist, and the admin of each is DEFAULT_ADMIN_ROLE.
contract KycRegistry is IKycRegistry, AccessControl, Pausable {
    using EnumerableSet for EnumerableSet.AddressSet;

    /// @notice Role that may call {attest}.
    bytes32 public constant ATTESTER_ROLE = keccak256("ATTESTER_ROLE");
    /// @notice Role that may call {revoke}.
    bytes32 public constant REVOKER_ROLE = keccak256("REVOKER_ROLE");

    uint256 private constant _ADMIN_BIT = 1 << 0;
    uint256 private constant _ATTESTER_BIT = 1 << 1;
    uint256 private constant _REVOKER_BIT = 1 << 2;
    uint256 private constant _ROLE_BITS = _ADMIN_BIT | _ATTESTER_BIT | _REVOKER_BIT;
    uint256 private constant _PAUSED_BIT = 1 << 255;

    uint256 private constant _SHIFT_CLAIMS = 8;
    uint256 private constant _SHIFT_ISSUED = 40;
    uint256 private constant _SHIFT_EXPIRES = 80;
    uint256 private constant _SHIFT_REASON = 120;
    uint256 private constant _REASON_MASK = uint256(0xff) << _SHIFT_REASON;

    /// @dev Role bits (and the pause mirror) per account.
    mapping(address account => uint256 word) private _access;
    /// @dev Accounts holding at least one role, so pausing can reach all of them.
    EnumerableSet.AddressSet private _members;
    /// @dev The packed record per wallet.
    mapping(address wallet => uint256 record) private _records;
    /// @dev The packed record per scope and wallet (the layout of `_records`); never scope 0.
    mapping(bytes32 scope => mapping(address wallet => uint256 record)) private _scopedRecords;

    /// @notice Deploys the registry with `admin` as its only administrator.
    /// @param admin Receives DEFAULT_ADMIN_ROLE; it grants the attester and revoker roles. Not zero.
    constructor(address admin) {
        if (admin == address(0)) revert KycRegistryInvalidAccount(address(0));
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ---------------------------------------------------------------- writes

    /// @inheritdoc IKycRegistry
    /// @dev The hot path (see the gas table in the README): {_attest}'s assembly loop.
    function attest(Record[] calldata records) external onlyWriter(_ATTESTER_BIT, ATTESTER_ROLE) {
        _attest(_records, 0, Attested.selector, records);
    }

    /// @inheritdoc IKycRegistry
    /// @dev {attest}'s code over the scope's table ({_attest}); the same gas per record but for the
    /// event's third topic (375).
    function attestScoped(bytes32 scope, Record[] calldata records) external onlyWriter(_ATTESTER_BIT, ATTESTER_ROLE) {
        _attest(_scoped(scope), scope, ScopedAttested.selector, records);
    }

    /// @inheritdoc IKycRegistry
    function revoke(address[] calldata wallets, uint8 reason) external onlyWriter(_REVOKER_BIT, REVOKER_ROLE) {
        _revoke(_records, 0, wallets, reason);
    }

    /// @inheritdoc IKycRegistry
    function revokeScoped(bytes32 scope, address[] calldata wallets, uint8 reason)
        external
        onlyWriter(_REVOKER_BIT, REVOKER_ROLE)
    {
        _revoke(_scoped(scope), scope, wallets, reason);
    }

    /// @notice Stops {attest}, {revoke}, {attestScoped} and {revokeScoped} until {unpause}. Admin
    /// only.
    function pause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _pause();
    }

    /// @notice Lets the writes ({attest}, {revoke} and their scoped forms) run again. Admin only.
    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _unpause();
    }

    // ---------------------------------------------------------------- reads

    /// @inheritdoc IKycRegistry
    function isVerified(address wallet) external view returns (bool) {
        return _verified(_records[wallet]);
    }

    /// @inheritdoc IKycRegistry
    function isVerified(address wallet, uint8 minLevel) external view returns (bool) {
        uint256 stored = _records[wallet];
        return _verified(stored) && uint8(stored) >= minLevel;
    }

    /// @inheritdoc IKycRegistry
    function hasClaims(address wallet, uint32 claims) external view returns (bool) {
        return _hasClaims(_records[wallet], claims);
    }

    /// @inheritdoc IKycRegistry
    function attestationOf(address wallet) external view returns (Attestation memory) {
        return _unpack(_records[wallet]);
    }

    /// @inheritdoc IKycRegistry
    function isVerified(address wallet, bytes32 scope) external view returns (bool) {
        return _verified(_scoped(scope)[wallet]);
    }

    /// @inheritdoc IKycRegistry
    function hasClaims(address wallet, bytes32 scope, uint32 claims) external view returns (bool) {
        return _hasClaims(_scoped(scope)[wallet], claims);
    }

    /// @inheritdoc IKycRegistry
    function attestationOf(address wallet, bytes32 scope) external view returns (Attestation memory) {
        return _unpack(_scoped(scope)[wallet]);
    }

    /// @notice The accounts that hold at least one role, in no particular order.
    /// @return The role holders.
    function roleMembers() external view returns (address[] memory) {
        return _members.values();
    }

    /// @inheritdoc AccessControl
    function hasRole(bytes32 role, address account) public view override returns (bool) {
        return _access[account] & _bitOf(role) != 0;
    }

    /// @inheritdoc AccessControl
    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == type(IKycRegistry).interfaceId || super.supportsInterface(interfaceId);
    }

    // ---------------------------------------------------------------- internals

    /// @dev The table of `scope`'s records; reverts with {KycRegistryInvalidScope} for 0.
    function _scoped(bytes32 scope) private view returns (mapping(address wallet => uint256) storage) {
        if (scope == 0) revert KycRegistryInvalidScope();
        return _scopedRecords[scope];
    }

    /// @dev Writes `records` into `table` (`_records`, or a scope's table with `scope` != 0),
    /// emitting {Attested} (`scope` = 0) or {ScopedAttested}. The loop reads each static 5-word
    /// record straight from calldata, checks it as Solidity's decoder would, and writes the
    /// packed slot and the event. On the first bad record it stops and the Solidity code below
    /// raises the typed error from that record.
    function _attest(
        mapping(address wallet => uint256) storage table,
        bytes32 scope,
        bytes32 topic,
        Record[] calldata records
    ) private {
        uint256 n = records.length;
        if (n == 0) revert KycRegistryEmptyBatch();
        uint256 failed; // calldata offset of the first invalid record; 0 when all are valid
        assembly ("memory-safe") {
            let buf := mload(0x40) // event data, written past the free memory pointer
            let buf2 := add(buf, 0x20)
            mstore(0x20, table.slot)
            let end := add(records.offset, mul(n, 0xa0))
            for { let p := records.offset } lt(p, end) { p := add(p, 0xa0) } {
                let wallet := calldataload(p)
                let level := calldataload(add(p, 0x20))
                let claims := calldataload(add(p, 0x40))
                let issuedAt := calldataload(add(p, 0x60))
                let expiresAt := calldataload(add(p, 0x80))
                // Dirty high bits are not a valid ABI encoding: revert without data, as the decoder.
                if or(or(shr(160, wallet), shr(8, level)), or(shr(32, claims), shr(40, or(issuedAt, expiresAt)))) {
                    revert(0, 0)
                }
                // Zero wallet or level 0 (the product of a 160-bit and an 8-bit value cannot wrap).
                if iszero(mul(wallet, level)) {
                    failed := p
                    break
                }
                mstore(0x00, wallet)
                let slot := keccak256(0x00, 0x40)
                let stored := sload(slot)
                // Stale (not newer than the stored record): skip, keeping any revocation.
                if stored {
                    if iszero(lt(and(shr(_SHIFT_ISSUED, stored), 0xffffffffff), issuedAt)) { continue }
                }
                // Expires after both the block's timestamp and issuedAt, or the batch is refused.
                if iszero(and(gt(expiresAt, timestamp()), gt(expiresAt, issuedAt))) {
                    failed := p
                    break
                }
                sstore(
                    slot,
                    or(
                        or(level, shl(_SHIFT_CLAIMS, claims)),
                        or(shl(_SHIFT_ISSUED, issuedAt), shl(_SHIFT_EXPIRES, expiresAt))
                    )
                )
                mstore(buf, level)
                mstore(buf2, expiresAt)
                if scope {
                    log3(buf, 0x40, topic, scope, wallet)
                    continue
                }
                log2(buf, 0x40, topic, wallet)
            }
        }
        if (failed != 0) _revertInvalid(failed);
    }

    /// @dev Revokes `wallets` in `table` (`_records`, or a scope's table with `scope` != 0),
    /// emitting {Revoked} (`scope` = 0) or {ScopedRevoked}; wallets without a record are skipped.
    function _revoke(
        mapping(address wallet => uint256) storage table,
        bytes32 scope,
        address[] calldata wallets,
        uint8 reason
    ) private {
        uint256 n = wallets.length;
        if (n == 0) revert KycRegistryEmptyBatch();
        if (reason == 0 || reason > REASON_ROTATED) revert KycRegistryInvalidRevocationReason(reason);
        uint256 reasonBits = uint256(reason) << _SHIFT_REASON;
        for (uint256 i; i < n;) {
            address wallet = wallets[i];
            uint256 stored = table[wallet];
            if (stored != 0) {
                table[wallet] = (stored & ~_REASON_MASK) | reasonBits;
                if (scope == 0) emit Revoked(wallet, reason);
                else emit ScopedRevoked(scope, wallet, reason);
            }
            unchecked {
                ++i;
            }
        }
    }

    /// @dev Verified, and every bit of `claims` set in the record.
    function _hasClaims(uint256 stored, uint32 claims) private view returns (bool) {
        return _verified(stored) && uint32(stored >> _SHIFT_CLAIMS) & claims == claims;
    }

    /// @dev The packed slot as an {Attestation}.
    function _unpack(uint256 stored) private pure returns (Attestation memory a) {
        a.level = uint8(stored);
        a.claims = uint32(stored >> _SHIFT_CLAIMS);
        a.issuedAt = uint40(stored >> _SHIFT_ISSUED);
        a.expiresAt = uint40(stored >> _SHIFT_EXPIRES);
        a.revocationReason = uint8(stored >> _SHIFT_REASON);
        a.revoked = a.revocationReason != 0;
    }

    /// @dev Not expired (a missing record has expiresAt 0) and not revoked.
    function _verified(uint256 stored) private view returns (bool) {
        return stored & _REASON_MASK == 0 && uint40(stored >> _SHIFT_EXPIRES) > block.timestamp;
    }

    /// @dev Raises the typed error for the record at calldata offset `p` that the assembly loop
    /// refused (its encoding is clean).
    function _revertInvalid(uint256 p) private view {
        Record calldata r;
        assembly ("memory-safe") {
            r := p
        }
        if (r.wallet == address(0)) revert KycRegistryInvalidWallet(r.wallet);
        if (r.level == 0) revert KycRegistryInvalidLevel(r.wallet, r.level);
        // Only the expiry check is left: the loop refused this record for its expiry.
        assert(r.expiresAt <= block.timestamp || r.expiresAt <= r.issuedAt);
        revert KycRegistryInvalidExpiry(r.wallet, r.issuedAt, r.expiresAt);
    }

    /// @dev The role and pause check of the write paths: one storage read. A modifier rather than
    /// a function so that it is inlined into the four writes (a call costs ~20 gas more).
    modifier onlyWriter(uint256 bit, bytes32 role) {
        uint256 word = _access[msg.sender];
        if (word & (bit | _PAUSED_BIT) != bit) {
            if (word & bit == 0) revert AccessControlUnauthorizedAccount(msg.sender, role);
            revert EnforcedPause();
        }
        _;
    }

    /// @dev The bit of a known role; 0 for any other role (which nobody holds).
    function _bitOf(bytes32 role) private pure returns (uint256) {
        if (role == DEFAULT_ADMIN_ROLE) return _ADMIN_BIT;
        if (role == ATTESTER_ROLE) return _ATTESTER_BIT;
        if (role == REVOKER_ROLE) return _REVOKER_BIT;
        return 0;
    }

    /// @dev Stores the role in the packed word (with the pause mirror) instead of AccessControl's
    /// mapping. Unknown roles are refused rather than silently granted.
    function _grantRole(bytes32 role, address account) internal override returns (bool) {
        uint256 bit = _bitOf(role);
        if (bit == 0) revert KycRegistryUnknownRole(role);
        uint256 word = _access[account];
        if (word & bit != 0) return false;
        word |= bit;
        if (paused()) word |= _PAUSED_BIT;
        _access[account] = word;
        _members.add(account);
        emit RoleGranted(role, account, _msgSender());
        return true;
    }

    /// @dev Clears the role bit; an account left with no role leaves the member set.
    function _revokeRole(bytes32 role, address account) internal override returns (bool) {
        uint256 bit = _bitOf(role);
        uint256 word = _access[account];
        if (word & bit == 0) return false;
        word &= ~bit;
        if (word & _ROLE_BITS == 0) {
            delete _access[account];
            _members.remove(account);
        } else {
            _access[account] = word;
        }
        emit RoleRevoked(role, account, _msgSender());
        return true;
    }

    /// @dev Sets the pause mirror in every role holder's word.
    function _pause() internal override {
        super._pause();
        uint256 n = _members.length();
        for (uint256 i; i < n; ++i) {
            address account = _members.at(i);
            _access[account] |= _PAUSED_BIT;
        }
    }

    /// @dev Clears the pause mirror in every role holder's word.
    function _unpause() internal override {
        super._unpause();
        uint256 n = _members.length();
        for (uint256 i; i < n; ++i) {
            address account = _members.at(i);
            _access[account] &= ~_PAUSED_BIT;
        }
    }
}
