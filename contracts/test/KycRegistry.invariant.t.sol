// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {KycRegistry} from "../src/KycRegistry.sol";
import {IKycRegistry, REASON_HOLDER, REASON_ROTATED} from "../src/IKycRegistry.sol";

/// @dev Drives the registry with random attests, revokes, pauses, clock moves and attempts by
/// accounts without the role, and keeps a model of what each wallet's record must be.
contract RegistryHandler is Test {
    KycRegistry internal immutable registry;
    address internal immutable admin;
    address internal immutable attester;
    address internal immutable revoker;

    address[] internal wallets;
    mapping(address wallet => IKycRegistry.Attestation) internal model;

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
    }

    function walletCount() external view returns (uint256) {
        return wallets.length;
    }

    function walletAt(uint256 i) external view returns (address) {
        return wallets[i];
    }

    function expected(address wallet) external view returns (IKycRegistry.Attestation memory) {
        return model[wallet];
    }

    function attest(uint256 walletSeed, uint8 level, uint32 claims, uint256 issuedOffset, uint256 lifetime) external {
        vm.warp(now_);
        address wallet = wallets[walletSeed % wallets.length];
        level = uint8(bound(level, 1, type(uint8).max));
        // Around the clock: some records are older than the stored one, some newer.
        uint40 issuedAt = uint40(bound(issuedOffset, now_ - 30 days, now_ + 1 days));
        uint40 expiresAt = uint40(bound(lifetime, 1, 400 days)) + uint40(_max(now_, issuedAt));
        IKycRegistry.Record[] memory b = new IKycRegistry.Record[](1);
        b[0] = IKycRegistry.Record(wallet, level, claims, issuedAt, expiresAt);
        vm.prank(attester);
        try registry.attest(b) {
            IKycRegistry.Attestation storage m = model[wallet];
            if (m.expiresAt == 0 || issuedAt > m.issuedAt) {
                model[wallet] = IKycRegistry.Attestation(level, claims, issuedAt, expiresAt, 0, false);
            }
            ++attests;
        } catch {
            if (!registry.paused()) ++unexpectedReverts;
        }
    }

    function revoke(uint256 walletSeed, uint8 reason) external {
        vm.warp(now_);
        address wallet = wallets[walletSeed % wallets.length];
        reason = uint8(bound(reason, REASON_HOLDER, REASON_ROTATED));
        address[] memory ws = new address[](1);
        ws[0] = wallet;
        vm.prank(revoker);
        try registry.revoke(ws, reason) {
            IKycRegistry.Attestation storage m = model[wallet];
            if (m.expiresAt != 0) {
                m.revocationReason = reason;
                m.revoked = true;
            }
            ++revokes;
        } catch {
            if (!registry.paused()) ++unexpectedReverts;
        }
    }

    function strangerWrites(address caller, uint256 walletSeed) external {
        vm.warp(now_);
        vm.assume(caller != attester && caller != revoker && caller != admin);
        address wallet = wallets[walletSeed % wallets.length];
        IKycRegistry.Record[] memory b = new IKycRegistry.Record[](1);
        b[0] = IKycRegistry.Record(wallet, 1, 1, uint40(now_ + 2 days), uint40(now_ + 10 days));
        address[] memory ws = new address[](1);
        ws[0] = wallet;
        vm.prank(caller);
        try registry.attest(b) {
            ++unauthorizedSuccesses;
        } catch {}
        vm.prank(caller);
        try registry.revoke(ws, REASON_HOLDER) {
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
    function writeWhilePaused(uint256 walletSeed) external {
        vm.warp(now_);
        if (!registry.paused()) return;
        address wallet = wallets[walletSeed % wallets.length];
        IKycRegistry.Record[] memory b = new IKycRegistry.Record[](1);
        b[0] = IKycRegistry.Record(wallet, 1, 1, uint40(now_ + 2 days), uint40(now_ + 10 days));
        address[] memory ws = new address[](1);
        ws[0] = wallet;
        vm.prank(attester);
        try registry.attest(b) {
            ++unauthorizedSuccesses;
        } catch {}
        vm.prank(revoker);
        try registry.revoke(ws, REASON_HOLDER) {
            ++unauthorizedSuccesses;
        } catch {}
    }

    function warp(uint256 secondsAhead) external {
        now_ += bound(secondsAhead, 1, 120 days);
        vm.warp(now_);
    }

    /// @dev Lands exactly on a record's expiry, the boundary random warps almost never hit.
    function warpToExpiry(uint256 walletSeed) external {
        uint256 expiresAt = model[wallets[walletSeed % wallets.length]].expiresAt;
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
    }

    /// @dev The registry holds exactly what the model says: only the handler's authorised,
    /// unpaused writes changed state, following the documented replace/skip/revoke rules.
    function invariant_StateMatchesModel() public view {
        for (uint256 i; i < handler.walletCount(); ++i) {
            address w = handler.walletAt(i);
            IKycRegistry.Attestation memory got = registry.attestationOf(w);
            IKycRegistry.Attestation memory want = handler.expected(w);
            assertEq(got.level, want.level, "level");
            assertEq(got.claims, want.claims, "claims");
            assertEq(got.issuedAt, want.issuedAt, "issuedAt");
            assertEq(got.expiresAt, want.expiresAt, "expiresAt");
            assertEq(got.revocationReason, want.revocationReason, "reason");
            assertEq(got.revoked, want.revoked, "revoked");
        }
    }

    /// @dev Revoked records are never verified (until a newer attest replaces them); expired
    /// records are never verified; verified means exists, not revoked, not expired.
    function invariant_VerifiedOnlyWhenLiveAndUnrevoked() public {
        vm.warp(handler.now_());
        for (uint256 i; i < handler.walletCount(); ++i) {
            address w = handler.walletAt(i);
            IKycRegistry.Attestation memory a = registry.attestationOf(w);
            bool verified = registry.isVerified(w);
            if (a.revoked) assertFalse(verified, "revoked but verified");
            if (a.expiresAt <= block.timestamp) assertFalse(verified, "expired but verified");
            assertEq(verified, !a.revoked && a.expiresAt > block.timestamp, "isVerified rule");
            assertEq(registry.isVerified(w, a.level), verified, "own level");
            assertEq(registry.hasClaims(w, 0), verified, "no claims asked");
            assertEq(registry.hasClaims(w, a.claims), verified, "own claims");
            if (a.claims != type(uint32).max) {
                assertFalse(registry.hasClaims(w, ~a.claims), "claims it lacks");
            }
        }
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
