// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {KycRegistry} from "../src/KycRegistry.sol";
import {IKycRegistry, REASON_HOLDER, REASON_ROTATED} from "../src/IKycRegistry.sol";

/// @dev Drives the registry with random attests, revokes, pauses, clock moves and attempts by
/// accounts without the role, on the global record and in two scopes, and keeps a model of what
/// each (scope, wallet) record must be (scope 0 = the global record).
contract RegistryHandler is Test {
    KycRegistry internal immutable registry;
    address internal immutable admin;
    address internal immutable attester;
    address internal immutable revoker;

    address[] internal wallets;
    bytes32[] internal scopes;
    mapping(bytes32 scope => mapping(address wallet => IKycRegistry.Attestation)) internal model;

    /// @dev The clock of the run (block changes made in one handler call are not kept by forge).
    uint256 public now_;
    /// @dev Writes by accounts without the role, or while paused, that did not revert.
    uint256 public unauthorizedSuccesses;
    /// @dev Valid writes by the role holders that reverted although not paused (kept here, not
    /// asserted in the handler: handler reverts are not failures with fail_on_revert = false).
    uint256 public unexpectedReverts;
    uint256 public attests;
    uint256 public revokes;

    constructor(KycRegistry registry_, address admin_, address attester_, address revoker_) {
        registry = registry_;
        admin = admin_;
        attester = attester_;
        revoker = revoker_;
        now_ = block.timestamp;
        for (uint256 i; i < 5; ++i) {
            wallets.push(address(uint160(0x1000 + i)));
        }
        scopes.push(0);
        scopes.push(keccak256("honnin/v1/scope\x00kyc-drop"));
        scopes.push(keccak256("honnin/v1/scope\x00app.example.com"));
    }

    function walletCount() external view returns (uint256) {
        return wallets.length;
    }

    function walletAt(uint256 i) external view returns (address) {
        return wallets[i];
    }

    function scopeCount() external view returns (uint256) {
        return scopes.length;
    }

    function scopeAt(uint256 i) external view returns (bytes32) {
        return scopes[i];
    }

    function expected(bytes32 scope, address wallet) external view returns (IKycRegistry.Attestation memory) {
        return model[scope][wallet];
    }

    /// @dev `attest` or `attestScoped` as `from`.
    function _write(address from, bytes32 scope, IKycRegistry.Record[] memory b) internal {
        vm.prank(from);
        if (scope == 0) registry.attest(b);
        else registry.attestScoped(scope, b);
    }

    /// @dev `revoke` or `revokeScoped` as `from`.
    function _unwrite(address from, bytes32 scope, address[] memory ws, uint8 reason) internal {
        vm.prank(from);
        if (scope == 0) registry.revoke(ws, reason);
        else registry.revokeScoped(scope, ws, reason);
    }

    /// @dev External so that a revert comes back to a `try` (and to the counters).
    function write(address from, bytes32 scope, IKycRegistry.Record[] memory b) external {
        require(msg.sender == address(this));
        _write(from, scope, b);
    }

    function unwrite(address from, bytes32 scope, address[] memory ws, uint8 reason) external {
        require(msg.sender == address(this));
        _unwrite(from, scope, ws, reason);
    }

    function attest(
        uint256 walletSeed,
        uint256 scopeSeed,
        uint8 level,
        uint32 claims,
        uint256 issuedOffset,
        uint256 lifetime
    ) external {
        vm.warp(now_);
        address wallet = wallets[walletSeed % wallets.length];
        bytes32 scope = scopes[scopeSeed % scopes.length];
        level = uint8(bound(level, 1, type(uint8).max));
        // Around the clock: some records are older than the stored one, some newer.
        uint40 issuedAt = uint40(bound(issuedOffset, now_ - 30 days, now_ + 1 days));
        uint40 expiresAt = uint40(bound(lifetime, 1, 400 days)) + uint40(_max(now_, issuedAt));
        IKycRegistry.Record[] memory b = new IKycRegistry.Record[](1);
        b[0] = IKycRegistry.Record(wallet, level, claims, issuedAt, expiresAt);
        try this.write(attester, scope, b) {
            IKycRegistry.Attestation storage m = model[scope][wallet];
            if (m.expiresAt == 0 || issuedAt > m.issuedAt) {
                model[scope][wallet] = IKycRegistry.Attestation(level, claims, issuedAt, expiresAt, 0, false);
            }
            ++attests;
        } catch {
            if (!registry.paused()) ++unexpectedReverts;
        }
    }

    function revoke(uint256 walletSeed, uint256 scopeSeed, uint8 reason) external {
        vm.warp(now_);
        address wallet = wallets[walletSeed % wallets.length];
        bytes32 scope = scopes[scopeSeed % scopes.length];
        reason = uint8(bound(reason, REASON_HOLDER, REASON_ROTATED));
        address[] memory ws = new address[](1);
        ws[0] = wallet;
        try this.unwrite(revoker, scope, ws, reason) {
            IKycRegistry.Attestation storage m = model[scope][wallet];
            if (m.expiresAt != 0) {
                m.revocationReason = reason;
                m.revoked = true;
            }
            ++revokes;
        } catch {
            if (!registry.paused()) ++unexpectedReverts;
        }
    }

    function strangerWrites(address caller, uint256 walletSeed, uint256 scopeSeed) external {
        vm.warp(now_);
        vm.assume(caller != attester && caller != revoker && caller != admin && caller != address(this));
        address wallet = wallets[walletSeed % wallets.length];
        bytes32 scope = scopes[scopeSeed % scopes.length];
        IKycRegistry.Record[] memory b = new IKycRegistry.Record[](1);
        b[0] = IKycRegistry.Record(wallet, 1, 1, uint40(now_ + 2 days), uint40(now_ + 10 days));
        address[] memory ws = new address[](1);
        ws[0] = wallet;
        try this.write(caller, scope, b) {
            ++unauthorizedSuccesses;
        } catch {}
        try this.unwrite(caller, scope, ws, REASON_HOLDER) {
            ++unauthorizedSuccesses;
        } catch {}
        bytes32 attesterRole = registry.ATTESTER_ROLE();
        vm.prank(caller);
        try registry.grantRole(attesterRole, caller) {
            ++unauthorizedSuccesses;
        } catch {}
        vm.prank(caller);
        try registry.pause() {
            ++unauthorizedSuccesses;
        } catch {}
    }

    function togglePause() external {
        vm.warp(now_);
        vm.startPrank(admin);
        if (registry.paused()) registry.unpause();
        else registry.pause();
        vm.stopPrank();
    }

    /// @dev While paused, even the role holders must not get a write through.
    function writeWhilePaused(uint256 walletSeed, uint256 scopeSeed) external {
        vm.warp(now_);
        if (!registry.paused()) return;
        address wallet = wallets[walletSeed % wallets.length];
        bytes32 scope = scopes[scopeSeed % scopes.length];
        IKycRegistry.Record[] memory b = new IKycRegistry.Record[](1);
        b[0] = IKycRegistry.Record(wallet, 1, 1, uint40(now_ + 2 days), uint40(now_ + 10 days));
        address[] memory ws = new address[](1);
        ws[0] = wallet;
        try this.write(attester, scope, b) {
            ++unauthorizedSuccesses;
        } catch {}
        try this.unwrite(revoker, scope, ws, REASON_HOLDER) {
            ++unauthorizedSuccesses;
        } catch {}
    }

    function warp(uint256 secondsAhead) external {
        now_ += bound(secondsAhead, 1, 120 days);
        vm.warp(now_);
    }

    /// @dev Lands exactly on a record's expiry, the boundary random warps almost never hit.
    function warpToExpiry(uint256 walletSeed, uint256 scopeSeed) external {
        uint256 expiresAt = model[scopes[scopeSeed % scopes.length]][wallets[walletSeed % wallets.length]].expiresAt;
        if (expiresAt > now_) now_ = expiresAt;
        vm.warp(now_);
    }

    function _max(uint256 a, uint256 b) private pure returns (uint256) {
        return a > b ? a : b;
    }
}

contract KycRegistryInvariantTest is Test {
    KycRegistry internal registry;
    RegistryHandler internal handler;

    function setUp() public {
        vm.warp(1_790_000_000);
        address admin = makeAddr("admin");
        address attester = makeAddr("attester");
        address revoker = makeAddr("revoker");
        registry = new KycRegistry(admin);
        vm.startPrank(admin);
        registry.grantRole(registry.ATTESTER_ROLE(), attester);
        registry.grantRole(registry.REVOKER_ROLE(), revoker);
        vm.stopPrank();
        handler = new RegistryHandler(registry, admin, attester, revoker);
        targetContract(address(handler));
        bytes4[] memory selectors = new bytes4[](7);
        selectors[0] = RegistryHandler.attest.selector;
        selectors[1] = RegistryHandler.revoke.selector;
        selectors[2] = RegistryHandler.strangerWrites.selector;
        selectors[3] = RegistryHandler.togglePause.selector;
        selectors[4] = RegistryHandler.writeWhilePaused.selector;
        selectors[5] = RegistryHandler.warp.selector;
        selectors[6] = RegistryHandler.warpToExpiry.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    /// @dev The record of `w` in `scope` (0 = global), as the registry answers.
    function _stored(bytes32 scope, address w) internal view returns (IKycRegistry.Attestation memory) {
        return scope == 0 ? registry.attestationOf(w) : registry.attestationOf(w, scope);
    }

    /// @dev The registry holds exactly what the model says: only the handler's authorised,
    /// unpaused writes changed state, following the documented replace/skip/revoke rules.
    /// Each (scope, wallet) follows its own model, so no write reached another scope or the
    /// global record.
    function invariant_StateMatchesModel() public view {
        for (uint256 s; s < handler.scopeCount(); ++s) {
            bytes32 scope = handler.scopeAt(s);
            for (uint256 i; i < handler.walletCount(); ++i) {
                address w = handler.walletAt(i);
                IKycRegistry.Attestation memory got = _stored(scope, w);
                IKycRegistry.Attestation memory want = handler.expected(scope, w);
                assertEq(got.level, want.level, "level");
                assertEq(got.claims, want.claims, "claims");
                assertEq(got.issuedAt, want.issuedAt, "issuedAt");
                assertEq(got.expiresAt, want.expiresAt, "expiresAt");
                assertEq(got.revocationReason, want.revocationReason, "reason");
                assertEq(got.revoked, want.revoked, "revoked");
            }
        }
    }

    /// @dev Revoked records are never verified (until a newer attest replaces them); expired
    /// records are never verified; verified means exists, not revoked, not expired.
    function invariant_VerifiedOnlyWhenLiveAndUnrevoked() public {
        vm.warp(handler.now_());
        for (uint256 s; s < handler.scopeCount(); ++s) {
            bytes32 scope = handler.scopeAt(s);
            for (uint256 i; i < handler.walletCount(); ++i) {
                address w = handler.walletAt(i);
                IKycRegistry.Attestation memory a = _stored(scope, w);
                bool verified = scope == 0 ? registry.isVerified(w) : registry.isVerified(w, scope);
                if (a.revoked) assertFalse(verified, "revoked but verified");
                if (a.expiresAt <= block.timestamp) assertFalse(verified, "expired but verified");
                assertEq(verified, !a.revoked && a.expiresAt > block.timestamp, "isVerified rule");
                assertEq(_hasClaims(scope, w, 0), verified, "no claims asked");
                assertEq(_hasClaims(scope, w, a.claims), verified, "own claims");
                if (a.claims != type(uint32).max) {
                    assertFalse(_hasClaims(scope, w, ~a.claims), "claims it lacks");
                }
                if (scope == 0) assertEq(registry.isVerified(w, a.level), verified, "own level");
            }
        }
    }

    function _hasClaims(bytes32 scope, address w, uint32 claims) internal view returns (bool) {
        return scope == 0 ? registry.hasClaims(w, claims) : registry.hasClaims(w, scope, claims);
    }

    /// @dev Nobody without the role, and nobody while paused, changed anything.
    function invariant_OnlyRoleHoldersWrite() public view {
        assertEq(handler.unauthorizedSuccesses(), 0);
    }

    /// @dev Valid writes by the role holders always went through while not paused.
    function invariant_ValidWritesSucceed() public view {
        assertEq(handler.unexpectedReverts(), 0);
    }
}
