// honnin's page: the verification flow (/) and a wallet's status (/status). No build step, no
// dependencies: EIP-6963 wallet discovery, EIP-1193 personal_sign, the API of this origin.
"use strict";

// ---- text: one table per language; Japanese first ----
const TEXT = {
  ja: {
    title: "honnin 本人確認", nav_verify: "本人確認", nav_status: "状態の確認",
    no_number: "このページがマイナンバー(個人番号)を尋ねることはありません。使うのはカードの利用者証明用電子証明書と、年齢の確認を選んだときの署名用電子証明書だけです。",
    verify_title: "ウォレットの本人確認", step_wallet: "ウォレットを接続", step_challenge: "チャレンジを取得",
    step_wallet_sign: "ウォレットで署名", step_card_sign: "カードで署名", step_submit: "送信",
    step_chain: "ブロックチェーンへの記録",
    connect: "ウォレットを接続", wallet_is: "ウォレット:", ask: "チャレンジを取得",
    message_title: "両方の鍵が署名するメッセージ(このまま署名されます)", wallet_sign: "ウォレットで署名",
    card_title: "カードで署名", manual_help: "カードリーダーをつないだパソコンで次のコマンドを実行し、表示された JSON を下に貼り付けてください。暗証番号はそのコマンドの画面で入力し、このページには入力しません。",
    paste_label: "honnin card sign --json の出力", submit: "送信",
    status_is: "状態:", tx: "トランザクション", block: "ブロック", verified: "確認済み:レジストリがこのウォレットを本人確認済みと答えました。",
    status_title: "ウォレットの状態", wallet_label: "ウォレットアドレス", look_up: "確認",
    level: "レベル", expires: "有効期限", reason: "失効理由",
    reason_holder: "本人による失効", reason_operator: "運営者による失効", reason_certificate_revoked: "電子証明書の失効", reason_superseded: "新しい確認への置き換え", reason_erasure: "データの消去", reason_rotated: "別のウォレットの確認による置き換え",
    revoke_title: "自分で失効させる", revoke_help: "ウォレットの署名で、このウォレットの本人確認を取り消します。ブロックチェーン上の記録は失効となりますが、過去の記録そのものは消えません。カードは引き続き使えます。",
    revoke: "このウォレットの確認を失効させる",
    erase_title: "データの消去", erase_help: "カードの署名で、honnin が保持するあなたの仮名データを消去し、有効な確認をすべて (どの dApp のものも) 失効させます。ブロックチェーン上の過去の記録は消せません(個人情報は含まれていません)。",
    erase: "消去の手順を表示",
    waiting: "お待ちください…", pending: "記録待ち", active: "有効", revoked: "失効", expired: "期限切れ",
    no_wallet: "ブラウザにウォレットが見つかりません。ウォレット拡張機能を入れてから、ページを再読み込みしてください。",
    bad_json: "貼り付けた内容が honnin card sign --json の出力ではありません。コマンドの出力全体を貼り付けてください。",
    revoked_done: "失効の依頼を受け付けました。", erased_done: "消去しました。",
    unknown: "想定外のエラーです。", unknown_action: "しばらくしてからもう一度お試しください。",
    bridge_sign: "カードで署名 (honnin card bridge)",
    bridge_found: "カードリーダーのブリッジが見つかりました。ボタンを押すと、ブリッジのターミナルに依頼元とメッセージが表示されます。",
    bridge_absent: "ブリッジが見つかりません。カードリーダーをつないだこのパソコンで honnin card bridge を起動するか、下の手順で署名してください。",
    bridge_waiting: "PIN はブリッジのターミナルで入力してください",
    bridge_waiting_age: "PIN と署名用パスワードはブリッジのターミナルで入力してください",
    bridge_no_age: "このブリッジは年齢の確認に対応していません。honnin を新しくしてブリッジを起動し直すか、下の手順で署名してください。",
    age_legend: "年齢の確認 (任意)",
    age_label: "年齢の確認も行う (18歳以上・20歳以上)",
    age_help: "選ぶと、カードから署名用電子証明書も読み取って送ります。この証明書には氏名・住所・生年月日・性別が記載されていますが、honnin はそこから「18歳以上」「20歳以上」の2つだけを計算し、残りはすぐに破棄します(保存も、ログへの記録も、ブロックチェーンへの書き込みもしません)。署名用パスワード(英大文字と数字の6〜16文字)は、このページではなくブリッジのターミナル(または下のコマンドの画面)で入力します。",
    manual_signing_help: "年齢の確認も行う場合は、続けて次のコマンドを実行し(署名用パスワードをそのコマンドの画面で入力します)、表示された JSON を下の2つ目の欄に貼り付けてください。",
    paste_signing_label: "2つ目: honnin card sign --key signing --json の出力 (年齢の確認)",
    bad_signing_json: "2つ目の欄に貼り付けた内容が honnin card sign --key signing --json の出力ではありません。2つ目のコマンドの出力全体を貼り付けてください。",
    claims_title: "年齢の確認", claims_label: "確認された属性",
    claim_unique_person: "本人 (一人につき一件)", claim_age_over_18: "18歳以上", claim_age_over_20: "20歳以上",
    claim_yes: "確認できました", claim_no: "該当しません (確認した時点の年齢)", claims_none: "年齢の確認なし",
    claims_refused_intro: "年齢の確認は認められませんでした。本人確認はそのまま有効です。",
    scope_is: "この確認の対象の dApp (スコープ):",
    scope_help: "この dApp の中だけで有効な確認です。ほかの dApp の確認とは結びつけられません (dApp ごとに別のウォレットを使えます)。",
  },
  en: {
    title: "honnin verification", nav_verify: "Verify", nav_status: "Status",
    no_number: "This page never asks for your individual number (My Number). Only the card's user-authentication certificate is used, and its signing certificate if you choose to prove your age.",
    verify_title: "Verify a wallet", step_wallet: "Connect a wallet", step_challenge: "Get a challenge",
    step_wallet_sign: "Sign with the wallet", step_card_sign: "Sign with the card", step_submit: "Submit",
    step_chain: "Recorded on chain",
    connect: "Connect a wallet", wallet_is: "Wallet:", ask: "Get a challenge",
    message_title: "The message both keys sign (exactly as shown)", wallet_sign: "Sign with the wallet",
    card_title: "Sign with the card", manual_help: "On the computer with the card reader, run this command and paste the JSON it prints below. You type the PIN in that command's window, never on this page.",
    paste_label: "Output of honnin card sign --json", submit: "Submit",
    status_is: "Status:", tx: "Transaction", block: "block", verified: "Verified: the registry says this wallet is verified.",
    status_title: "A wallet's status", wallet_label: "Wallet address", look_up: "Look up",
    level: "Level", expires: "Expires", reason: "Revocation reason",
    reason_holder: "revoked by the holder", reason_operator: "revoked by the operator", reason_certificate_revoked: "the certificate was revoked", reason_superseded: "superseded by a newer verification", reason_erasure: "data erased", reason_rotated: "replaced by another wallet's verification",
    revoke_title: "Revoke it yourself", revoke_help: "With your wallet's signature, withdraw this wallet's verification. The record on chain becomes revoked; past records are not deleted. Your card stays usable.",
    revoke: "Revoke this wallet's verification",
    erase_title: "Erase your data", erase_help: "With your card's signature, erase the pseudonymous data honnin keeps about you and revoke every live verification (in every dApp). Past records on chain cannot be erased (they hold nothing personal).",
    erase: "Show the erasure steps",
    waiting: "Please wait…", pending: "pending", active: "active", revoked: "revoked", expired: "expired",
    no_wallet: "No wallet found in this browser. Install a wallet extension, then reload the page.",
    bad_json: "What you pasted is not the output of honnin card sign --json. Paste the command's whole output.",
    revoked_done: "Revocation accepted.", erased_done: "Erased.",
    unknown: "Unexpected error.", unknown_action: "Please try again later.",
    bridge_sign: "Sign with the card (honnin card bridge)",
    bridge_found: "The card reader's bridge was found. Press the button: the bridge's terminal shows who asks and the message.",
    bridge_absent: "No bridge found. Start honnin card bridge on this computer with the card reader, or sign with the steps below.",
    bridge_waiting: "Type the PIN in the bridge's terminal",
    bridge_waiting_age: "Type the PIN and the signing password in the bridge's terminal",
    bridge_no_age: "This bridge cannot prove age. Update honnin and restart the bridge, or sign with the steps below.",
    age_legend: "Age (optional)",
    age_label: "Also prove my age (over 18 / over 20)",
    age_help: "If you tick this, the card's signing certificate is read and sent too. It holds your name, address, date of birth and sex; honnin computes only two answers from it, over 18 and over 20, and drops the rest at once (not stored, not logged, not written on chain). The signing password (6 to 16 uppercase letters and digits) is asked by the bridge in its terminal (or by the command below), never on this page.",
    manual_signing_help: "To prove your age too, then run this command (it asks for the signing password in its window) and paste the JSON it prints in the second field below.",
    paste_signing_label: "Second: output of honnin card sign --key signing --json (age)",
    bad_signing_json: "What you pasted in the second field is not the output of honnin card sign --key signing --json. Paste the second command's whole output.",
    claims_title: "Age", claims_label: "Claims",
    claim_unique_person: "unique person", claim_age_over_18: "over 18", claim_age_over_20: "over 20",
    claim_yes: "proved", claim_no: "not reached (age at verification)", claims_none: "no age claims",
    claims_refused_intro: "Your age could not be proved. Your verification itself stands.",
    scope_is: "The dApp (scope) this verification is for:",
    scope_help: "It holds in this dApp only, and cannot be linked with your verifications in other dApps (you may use another wallet in each).",
  },
};

// Every refusal code the API (and the card tool) returns: [sentence, what to do], per language.
const REFUSALS = {
  ja: {
    malformed_request: ["リクエストの形式が正しくありません。", "ページを再読み込みして、最初からやり直してください。"],
    busy: ["ブリッジは別の署名の依頼を処理中です。", "ブリッジのターミナルでその依頼を終えてから、もう一度押してください。"],
    declined: ["ブリッジのターミナルで署名が確認されませんでした。カードには何も送っていません。", "署名する場合は、もう一度押してターミナルで y と入力してください。"],
    origin_not_trusted: ["ブリッジがこのサイトを信頼していません。", "このページのアドレスを --trust-origin に指定して honnin card bridge を起動し直してください。"],
    host_not_allowed: ["ブリッジが依頼を拒否しました (127.0.0.1 または localhost 宛てではありません)。", "honnin serve の page.bridge_url を 127.0.0.1 (または localhost) とポートの URL にしてください。"],
    unsupported_media_type: ["リクエストの形式が正しくありません。", "ページを再読み込みしてください。"],
    body_too_large: ["送信したデータが大きすぎます。", "honnin card sign の出力だけを貼り付けてください。"],
    individual_number_forbidden: ["マイナンバー(個人番号)らしき値が含まれていました。honnin は個人番号を受け取りません。", "個人番号を入力・貼り付けしないでください。"],
    unknown_scope: ["その dApp (スコープ) はこのサービスに登録されていません。", "dApp のページからもう一度始めるか、サービスの運営者に問い合わせてください。"],
    challenge_not_found: ["チャレンジが見つかりません。", "新しいチャレンジを取得してください。"],
    challenge_expired: ["チャレンジの有効期限が切れました。", "新しいチャレンジを取得して、もう一度署名してください。"],
    challenge_used: ["このチャレンジは使用済みです。", "新しいチャレンジを取得してください。"],
    replayed: ["この署名はすでに使われています。", "新しいチャレンジを取得してください。"],
    challenge_purpose_mismatch: ["別の目的のチャレンジです。", "この操作用のチャレンジを取得し直してください。"],
    wallet_mismatch: ["ウォレットの署名がこのウォレットのものではありません。", "接続したウォレットで署名し直してください。"],
    contract_wallet_unavailable: ["コントラクトウォレットの署名を今は確認できません。", "しばらくしてからもう一度お試しください。"],
    wallet_already_attested: ["このウォレットはすでに本人確認済みです。", "状態のページで確認してください。"],
    wallet_limit_reached: ["このカードで確認できるウォレットの数の上限に達しました。", "不要なウォレットの確認を失効させてから、もう一度お試しください。"],
    attestation_not_found: ["このウォレットの本人確認は見つかりません。", "アドレスを確かめるか、本人確認を行ってください。"],
    no_live_attestation: ["有効な本人確認がありません。", "状態のページで確認してください。"],
    person_not_found: ["消去するデータはありません。", "何もする必要はありません。"],
    unauthorized: ["認証が必要です。", "このページの操作では起きないはずです。管理者に連絡してください。"],
    webhook_url_refused: ["Webhook の URL は使えません（運営者向け）。", "このページの操作では起きないはずです。管理者に連絡してください。"],
    webhook_endpoint_not_found: ["その Webhook の送信先はありません（運営者向け）。", "このページの操作では起きないはずです。管理者に連絡してください。"],
    webhook_delivery_not_found: ["その Webhook の配信はありません（運営者向け）。", "このページの操作では起きないはずです。管理者に連絡してください。"],
    webhook_delivery_not_dead: ["その Webhook の配信は再送できる状態ではありません（運営者向け）。", "このページの操作では起きないはずです。管理者に連絡してください。"],
    invalid_api_key: ["API キーが正しくありません。", "管理者に連絡してください。"],
    rate_limited: ["リクエストが多すぎます。", "少し待ってからもう一度お試しください。"],
    not_found: ["見つかりません。", "アドレスを確かめてください。"],
    method_not_allowed: ["この操作はできません。", "ページを再読み込みしてください。"],
    timeout: ["時間切れになりました。", "もう一度お試しください。"],
    unavailable: ["サービスが一時的に利用できません。", "しばらくしてからもう一度お試しください。"],
    internal: ["サービス内部でエラーが起きました。", "しばらくしてからもう一度お試しください。"],
    bad_signature: ["カードの署名を確認できませんでした。", "表示されたメッセージのまま、もう一度カードで署名してください。"],
    malformed_signature: ["カードの署名の形式が正しくありません。", "honnin card sign の出力全体を貼り付けてください。"],
    malformed_certificate: ["証明書を読み取れませんでした。", "honnin card sign の出力全体を貼り付けてください。"],
    expired: ["カードの電子証明書の有効期限が切れています。", "お住まいの市区町村の窓口で電子証明書を更新してください。"],
    not_yet_valid: ["カードの電子証明書はまだ有効になっていません。", "パソコンの時計を確かめ、有効になってからお試しください。"],
    revoked: ["カードの電子証明書は失効しています。", "お住まいの市区町村の窓口で電子証明書の再発行を受けてください。"],
    revocation_unknown: ["証明書の失効状況を今は確認できません。", "しばらくしてからもう一度お試しください。"],
    stale_revocation_data: ["証明書の失効情報が古く、確認できません。", "しばらくしてからもう一度お試しください。"],
    malformed_birth_date: ["署名用電子証明書の生年月日を読み取れませんでした。", "年齢の確認なしで登録されました。カードの証明書を市区町村の窓口で確かめてください。"],
    untrusted_issuer: ["この証明書は J-LIS が発行したものとして確認できません。", "マイナンバーカードの利用者証明用電子証明書で署名してください。"],
    wrong_key_usage: ["この証明書は本人確認に使えない種類です。", "利用者証明用電子証明書(暗証番号4桁)で署名してください。"],
    wrong_extended_key_usage: ["この証明書は本人確認に使えない種類です。", "利用者証明用電子証明書(暗証番号4桁)で署名してください。"],
    wrong_policy: ["この証明書は本人確認に使えない種類です。", "利用者証明用電子証明書(暗証番号4桁)で署名してください。"],
    unsupported_key: ["この証明書の鍵には対応していません。", "マイナンバーカードの利用者証明用電子証明書で署名してください。"],
    unsupported_signature_algorithm: ["この証明書の署名方式には対応していません。", "マイナンバーカードの利用者証明用電子証明書で署名してください。"],
    unsupported_critical_extension: ["この証明書には対応していない拡張があります。", "マイナンバーカードの利用者証明用電子証明書で署名してください。"],
    weak_hash: ["この証明書は弱いハッシュ方式を使っています。", "市区町村の窓口で電子証明書を更新してください。"],
    no_service: ["スマートカードサービス (pcscd) が動いていません。", "pcscd を起動してください。"],
    no_reader: ["カードリーダーが接続されていません。", "USB または NFC のカードリーダーを接続してください。"],
    reader_not_found: ["指定したカードリーダーが見つかりません。", "honnin card status でリーダーの名前を確かめてください。"],
    no_card: ["カードがリーダーにありません。", "マイナンバーカードをリーダーに置いてください。"],
    not_jpki: ["このカードはマイナンバーカードではないようです。", "マイナンバーカードを置いてください。"],
    card_removed: ["署名の途中でカードが外されました。", "カードを置いたまま、もう一度お試しください。"],
    card_busy: ["カードを別のプログラムが使っています。", "ほかのプログラムを閉じてからお試しください。"],
    wrong_pin: ["暗証番号が違います。", "正しい4桁の暗証番号を入力してください。間違いが続くとロックされます。"],
    pin_locked: ["暗証番号がロックされています。", "お住まいの市区町村の窓口でロックを解除してもらってください。"],
    wrong_signing_password: ["署名用パスワードが違います。", "英大文字と数字6〜16文字の署名用パスワードを確かめて、もう一度お試しください。5回続けて間違えるとロックされます。"],
    signing_password_locked: ["署名用パスワードがロックされています (利用者証明用の暗証番号はそのまま使えます)。", "お住まいの市区町村の窓口で初期化してもらってください。年齢の確認をせずに本人確認だけ行うこともできます。"],
    no_signing_certificate: ["このカードには署名用電子証明書がありません (15歳未満の方には原則発行されません)。", "「年齢の確認も行う」を外して本人確認だけ行うか、市区町村の窓口で署名用電子証明書の発行を受けてください。"],
    last_try_not_confirmed: ["残り1回の暗証番号入力を確認しなかったため、送りませんでした。", "暗証番号を確かめてから、yes と入力して続けてください。"],
    pin_format: ["暗証番号は数字4桁です。", "4桁の数字を入力してください。"],
    password_format: ["署名用パスワードは英大文字と数字の6〜16文字です。", "英大文字と数字で入力してください (カードには何も送っていません)。"],
    not_verified: ["暗証番号の照合が済んでいません。", "もう一度署名してください。"],
    file_not_found: ["カードに必要なファイルがありません。", "マイナンバーカードか確かめてください。"],
    unexpected_status: ["カードが想定外の応答をしました。", "カードを置き直して、もう一度お試しください。"],
    malformed_response: ["カードの応答を読み取れませんでした。", "カードを置き直して、もう一度お試しください。"],
    certificate_unusable: ["カードの証明書を使えません。", "市区町村の窓口で電子証明書を確かめてください。"],
    reader_failure: ["カードリーダーでエラーが起きました。", "リーダーをつなぎ直して、もう一度お試しください。"],
  },
  en: {
    malformed_request: ["The request was malformed.", "Reload the page and start again."],
    busy: ["The bridge is serving another signature request.", "Finish that request in the bridge's terminal, then press again."],
    declined: ["The signature was not confirmed in the bridge's terminal; nothing was sent to the card.", "To sign, press again and type y in the terminal."],
    origin_not_trusted: ["The bridge does not trust this site.", "Restart honnin card bridge with this page's address as --trust-origin."],
    host_not_allowed: ["The bridge refused the request (not addressed to 127.0.0.1 or localhost).", "Set honnin's page.bridge_url to a URL with 127.0.0.1 (or localhost) and the port."],
    unsupported_media_type: ["The request was malformed.", "Reload the page."],
    body_too_large: ["What you sent is too large.", "Paste only the output of honnin card sign."],
    individual_number_forbidden: ["Something like an individual number (My Number) was sent. honnin never accepts it.", "Do not type or paste your individual number."],
    unknown_scope: ["That dApp (scope) is not registered with this service.", "Start again from the dApp's page, or ask the service's operator."],
    challenge_not_found: ["The challenge was not found.", "Get a new challenge."],
    challenge_expired: ["The challenge has expired.", "Get a new challenge and sign again."],
    challenge_used: ["This challenge was already used.", "Get a new challenge."],
    replayed: ["This signature was already used.", "Get a new challenge."],
    challenge_purpose_mismatch: ["This challenge was issued for another purpose.", "Get a challenge for this action."],
    wallet_mismatch: ["The wallet signature is not from this wallet.", "Sign again with the connected wallet."],
    contract_wallet_unavailable: ["The contract wallet's signature cannot be checked right now.", "Try again later."],
    wallet_already_attested: ["This wallet is already verified.", "See the status page."],
    wallet_limit_reached: ["This card has verified as many wallets as allowed.", "Revoke a wallet you no longer use, then try again."],
    attestation_not_found: ["No verification was found for this wallet.", "Check the address, or verify the wallet."],
    no_live_attestation: ["There is no live verification.", "See the status page."],
    person_not_found: ["There is nothing to erase.", "Nothing to do."],
    unauthorized: ["Authorisation is required.", "This should not happen on this page: contact the operator."],
    webhook_url_refused: ["The webhook URL cannot be used (for operators).", "This should not happen on this page: contact the operator."],
    webhook_endpoint_not_found: ["There is no such webhook endpoint (for operators).", "This should not happen on this page: contact the operator."],
    webhook_delivery_not_found: ["There is no such webhook delivery (for operators).", "This should not happen on this page: contact the operator."],
    webhook_delivery_not_dead: ["That webhook delivery cannot be redelivered (for operators).", "This should not happen on this page: contact the operator."],
    invalid_api_key: ["The API key is not valid.", "Contact the operator."],
    rate_limited: ["Too many requests.", "Wait a moment and try again."],
    not_found: ["Not found.", "Check the address."],
    method_not_allowed: ["This action is not allowed.", "Reload the page."],
    timeout: ["The request timed out.", "Try again."],
    unavailable: ["The service is temporarily unavailable.", "Try again later."],
    internal: ["The service had an internal error.", "Try again later."],
    bad_signature: ["The card's signature did not verify.", "Sign the message exactly as shown with the card again."],
    malformed_signature: ["The card's signature is malformed.", "Paste the whole output of honnin card sign."],
    malformed_certificate: ["The certificate could not be read.", "Paste the whole output of honnin card sign."],
    expired: ["Your card's certificate has expired.", "Renew it at your city office."],
    not_yet_valid: ["Your card's certificate is not valid yet.", "Check your computer's clock, and try once it is valid."],
    revoked: ["Your card's certificate has been revoked.", "Have a new one issued at your city office."],
    revocation_unknown: ["The certificate's revocation status cannot be checked right now.", "Try again later."],
    stale_revocation_data: ["The revocation data is out of date.", "Try again later."],
    malformed_birth_date: ["The birth date in the signing certificate could not be read.", "You were attested without the age claims; have the card's certificate checked at your municipality's office."],
    untrusted_issuer: ["This certificate is not one J-LIS issued.", "Sign with your My Number card's user-authentication certificate."],
    wrong_key_usage: ["This kind of certificate cannot be used for verification.", "Use the user-authentication certificate (4-digit PIN)."],
    wrong_extended_key_usage: ["This kind of certificate cannot be used for verification.", "Use the user-authentication certificate (4-digit PIN)."],
    wrong_policy: ["This kind of certificate cannot be used for verification.", "Use the user-authentication certificate (4-digit PIN)."],
    unsupported_key: ["This certificate's key is not supported.", "Sign with your My Number card's user-authentication certificate."],
    unsupported_signature_algorithm: ["This certificate's signature algorithm is not supported.", "Sign with your My Number card's user-authentication certificate."],
    unsupported_critical_extension: ["This certificate has an unsupported extension.", "Sign with your My Number card's user-authentication certificate."],
    weak_hash: ["This certificate uses a weak hash.", "Renew it at your city office."],
    no_service: ["The smart-card service (pcscd) is not running.", "Start pcscd."],
    no_reader: ["No card reader is connected.", "Connect a USB or NFC card reader."],
    reader_not_found: ["The named card reader was not found.", "Check the reader's name with honnin card status."],
    no_card: ["There is no card in the reader.", "Place your My Number card on the reader."],
    not_jpki: ["This card does not look like a My Number card.", "Place your My Number card."],
    card_removed: ["The card was removed while signing.", "Keep the card in place and try again."],
    card_busy: ["Another program is using the card.", "Close the other program and try again."],
    wrong_pin: ["The PIN is wrong.", "Type the right 4-digit PIN; more wrong tries lock it."],
    pin_locked: ["The PIN is locked.", "Your municipality's office resets it."],
    wrong_signing_password: ["The signing password is wrong.", "Check your signing password (6 to 16 uppercase letters and digits) and try again; five wrong tries in a row lock it."],
    signing_password_locked: ["The signing password is locked (your 4-digit PIN still works).", "Your municipality's office resets it. You can also verify without the age step."],
    no_signing_certificate: ["This card has no signing certificate (it is not issued to children under 15).", "Untick \"Also prove my age\" to verify without it, or have one issued at your municipality's office."],
    last_try_not_confirmed: ["The last PIN try was not confirmed, so nothing was sent.", "Make sure of the PIN, then type yes to go on."],
    pin_format: ["The PIN is 4 digits.", "Type 4 digits."],
    password_format: ["The signing password is 6 to 16 uppercase letters and digits.", "Type it with A-Z and 0-9 (nothing was sent to the card)."],
    not_verified: ["The PIN was not verified.", "Sign again."],
    file_not_found: ["A file the card should have is missing.", "Check that it is a My Number card."],
    unexpected_status: ["The card answered unexpectedly.", "Place the card again and retry."],
    malformed_response: ["The card's answer could not be read.", "Place the card again and retry."],
    certificate_unusable: ["The card's certificate cannot be used.", "Have it checked at your city office."],
    reader_failure: ["The card reader failed.", "Reconnect the reader and retry."],
  },
};

// Why an age claim was refused (`claims_refused[].code`: a code of the signing certificate's
// check, or claims_not_offered): [sentence, what to do], per language. The attestation stands.
const CLAIM_REFUSALS = {
  ja: {
    claims_not_offered: ["このサービスは年齢の確認を提供していません。", "年齢の確認が必要な場合は、サービスの運営者に問い合わせてください。"],
    malformed_certificate: ["署名用電子証明書を読み取れませんでした。", "honnin card sign --key signing --json の出力をそのまま使って、もう一度お試しください。"],
    untrusted_issuer: ["この証明書は、このサービスが信頼する J-LIS の署名用電子証明書として確認できません。", "マイナンバーカードの署名用電子証明書で署名してください。"],
    expired: ["署名用電子証明書の有効期限が切れています。", "市区町村の窓口で署名用電子証明書を更新してから、もう一度年齢の確認を行ってください。"],
    not_yet_valid: ["署名用電子証明書はまだ有効になっていません。", "パソコンの時計を確かめ、有効になってから、もう一度お試しください。"],
    wrong_key_usage: ["2つ目の証明書が署名用電子証明書ではありません。", "年齢の確認には署名用電子証明書 (署名用パスワード) で署名してください (honnin card sign --key signing)。"],
    wrong_extended_key_usage: ["2つ目の証明書が署名用電子証明書ではありません。", "年齢の確認には署名用電子証明書 (署名用パスワード) で署名してください (honnin card sign --key signing)。"],
    wrong_policy: ["2つ目の証明書が署名用電子証明書ではありません。", "年齢の確認には署名用電子証明書 (署名用パスワード) で署名してください (honnin card sign --key signing)。"],
    unsupported_critical_extension: ["署名用電子証明書に対応していない拡張があります。", "市区町村の窓口で署名用電子証明書を確かめてください。"],
    unsupported_key: ["署名用電子証明書の鍵には対応していません。", "市区町村の窓口で署名用電子証明書を確かめてください。"],
    unsupported_signature_algorithm: ["署名用電子証明書の署名方式には対応していません。", "市区町村の窓口で署名用電子証明書を確かめてください。"],
    weak_hash: ["署名用電子証明書が弱いハッシュ方式を使っています。", "市区町村の窓口で署名用電子証明書を更新してください。"],
    malformed_signature: ["署名用の鍵による署名の形式が正しくありません。", "honnin card sign --key signing --json の出力全体を貼り付けて、もう一度お試しください。"],
    bad_signature: ["署名用の鍵による署名を、このメッセージへの署名として確認できませんでした。", "表示されたメッセージのまま、署名用の鍵でもう一度署名してください (前の出力を貼り付けていないか確かめてください)。"],
    revoked: ["署名用電子証明書は失効しています (引っ越しや氏名の変更でも失効します)。", "市区町村の窓口で署名用電子証明書の再発行を受けてから、もう一度年齢の確認を行ってください。"],
    revocation_unknown: ["署名用電子証明書の失効状況を今は確認できません。", "しばらくしてから、もう一度年齢の確認を行ってください。"],
    stale_revocation_data: ["署名用電子証明書の失効情報が古く、確認できません。", "しばらくしてから、もう一度年齢の確認を行ってください。"],
    malformed_birth_date: ["署名用電子証明書の生年月日を読み取れませんでした。", "市区町村の窓口で署名用電子証明書を確かめてください。"],
  },
  en: {
    claims_not_offered: ["This service does not offer age claims.", "If you need your age proved, ask the service's operator."],
    malformed_certificate: ["The signing certificate could not be read.", "Use the output of honnin card sign --key signing --json unchanged and try again."],
    untrusted_issuer: ["This certificate is not a J-LIS signing certificate this service trusts.", "Sign with your My Number card's signing certificate."],
    expired: ["Your signing certificate has expired.", "Renew it at your city office, then prove your age again."],
    not_yet_valid: ["Your signing certificate is not valid yet.", "Check your computer's clock, and try again once it is valid."],
    wrong_key_usage: ["The second certificate is not a signing certificate.", "Sign with the signing certificate (signing password) to prove your age: honnin card sign --key signing."],
    wrong_extended_key_usage: ["The second certificate is not a signing certificate.", "Sign with the signing certificate (signing password) to prove your age: honnin card sign --key signing."],
    wrong_policy: ["The second certificate is not a signing certificate.", "Sign with the signing certificate (signing password) to prove your age: honnin card sign --key signing."],
    unsupported_critical_extension: ["Your signing certificate has an unsupported extension.", "Have it checked at your city office."],
    unsupported_key: ["Your signing certificate's key is not supported.", "Have it checked at your city office."],
    unsupported_signature_algorithm: ["Your signing certificate's signature algorithm is not supported.", "Have it checked at your city office."],
    weak_hash: ["Your signing certificate uses a weak hash.", "Renew it at your city office."],
    malformed_signature: ["The signing key's signature is malformed.", "Paste the whole output of honnin card sign --key signing --json and try again."],
    bad_signature: ["The signing key's signature is not one over this message.", "Sign the message exactly as shown with the signing key again (check that you did not paste an older output)."],
    revoked: ["Your signing certificate has been revoked (moving house or a change of name revokes it too).", "Have a new one issued at your city office, then prove your age again."],
    revocation_unknown: ["The signing certificate's revocation status cannot be checked right now.", "Try proving your age again later."],
    stale_revocation_data: ["The signing certificate's revocation data is out of date.", "Try proving your age again later."],
    malformed_birth_date: ["The birth date in your signing certificate could not be read.", "Have your signing certificate checked at your city office."],
  },
};

// The claim bits (the API's `claims`) and their names.
const CLAIM_BITS = [[1, "unique_person"], [2, "age_over_18"], [4, "age_over_20"]];

let lang = localStorage.getItem("honnin.lang") === "en" ? "en" : "ja";
const t = (key) => TEXT[lang][key] ?? key;
const $ = (id) => document.getElementById(id);

function render() {
  document.documentElement.lang = lang;
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  $("lang").textContent = lang === "ja" ? "English" : "日本語";
  $("lang").lang = lang === "ja" ? "en" : "ja";
  if (lastProblem) showProblem(lastProblem);
  if (lastClaims) showClaims(lastClaims);
  if (lastStatusClaims !== null) $("sv-claims").textContent = claimNames(lastStatusClaims);
}

// ---- problems: a code from the API (problem+json `code`) or the card tool (`error`) ----
let lastProblem = null;
function showProblem(code) {
  lastProblem = code;
  const entry = REFUSALS[lang][code] ?? [t("unknown"), t("unknown_action")];
  $("problem-text").textContent = entry[0];
  $("problem-action").textContent = entry[1];
  $("problem").dataset.code = code;
  $("problem").hidden = false;
}
function clearProblem() { lastProblem = null; $("problem").hidden = true; }

// ---- claims: the age step's outcome (`claims` bits, `claims_refused`) ----
let lastClaims = null, lastStatusClaims = null;
const claimNames = (bits) => {
  const names = CLAIM_BITS.filter(([bit]) => bits & bit).map(([, name]) => t(`claim_${name}`));
  if (!(bits & 6)) names.push(t("claims_none"));
  return names.join("・");
};
function item(text, data) {
  const li = document.createElement("li");
  li.textContent = text;
  Object.assign(li.dataset, data);
  return li;
}
// `outcome`: { claims: bits, refused: [{claim, code}] } of an attestation whose age was asked.
function showClaims(outcome) {
  lastClaims = outcome;
  const refused = new Set(outcome.refused.map((r) => r.claim));
  const list = CLAIM_BITS.filter(([, name]) => name.startsWith("age_") && !refused.has(name)).map(([bit, name]) => {
    const granted = (outcome.claims & bit) !== 0;
    return item(`${t(`claim_${name}`)}: ${t(granted ? "claim_yes" : "claim_no")}`, { claim: name, granted: String(granted) });
  });
  $("claims-list").replaceChildren(...list);
  // One sentence per refusal code, naming the claims it refused.
  const codes = [...new Set(outcome.refused.map((r) => r.code))];
  $("claims-refused-list").replaceChildren(...codes.map((code) => {
    const claims = outcome.refused.filter((r) => r.code === code).map((r) => t(`claim_${r.claim}`)).join("・");
    const [sentence, action] = CLAIM_REFUSALS[lang][code] ?? [t("unknown"), t("unknown_action")];
    return item(`${claims}: ${sentence} ${action}`, { code });
  }));
  $("claims-refused").hidden = codes.length === 0;
  $("claims-box").hidden = false;
}
function say(text) { $("live").textContent = text; }

// ---- scope: `/?scope=NAME` and `/status?scope=NAME` attest, look up and revoke the wallet's
// record in that dApp's scope (the API refuses a name it does not know: unknown_scope) ----
const SCOPE = new URLSearchParams(location.search).get("scope") || null;
const inScope = (body) => (SCOPE ? { ...body, scope: SCOPE } : body);
const attestationPath = (address) =>
  `/v1/attestations/${encodeURIComponent(address)}` + (SCOPE ? `?scope=${encodeURIComponent(SCOPE)}` : "");
function showScope() {
  if (!SCOPE) return;
  $("scope-name").textContent = SCOPE;
  $("scope-line").hidden = false;
  // The two pages keep the scope between them.
  for (const link of document.querySelectorAll("nav a")) {
    link.setAttribute("href", `${link.getAttribute("href")}?scope=${encodeURIComponent(SCOPE)}`);
  }
}

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: body ? { "content-type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await response.json().catch(() => ({}));
  if (!response.ok) throw Object.assign(new Error(json.code ?? "internal"), { code: json.code ?? "internal" });
  return json;
}
const fail = (error) => showProblem(error.code ?? "internal");

// ---- wallets: EIP-6963 discovery, window.ethereum as a last resort ----
const providers = new Map();
window.addEventListener("eip6963:announceProvider", (event) => {
  const { info, provider } = event.detail;
  providers.set(info.uuid, { info, provider });
});
window.dispatchEvent(new Event("eip6963:requestProvider"));

let wallet = null; // { provider, address }
async function connect() {
  clearProblem();
  const found = [...providers.values()];
  const provider = found[0]?.provider ?? window.ethereum;
  if (!provider) { say(t("no_wallet")); $("problem-text").textContent = t("no_wallet"); $("problem-action").textContent = ""; $("problem").hidden = false; return null; }
  const [address] = await provider.request({ method: "eth_requestAccounts" });
  wallet = { provider, address };
  for (const id of ["wallet-address", "status-wallet"]) { if (id === "wallet-address") $(id).textContent = address; else $(id).value = address; }
  $("wallet-line").hidden = false;
  return wallet;
}
const utf8Hex = (text) => "0x" + [...new TextEncoder().encode(text)].map((b) => b.toString(16).padStart(2, "0")).join("");
const personalSign = (message) => wallet.provider.request({ method: "personal_sign", params: [utf8Hex(message), wallet.address] });

function progress(step) {
  const order = [...document.querySelectorAll("#progress li")].map((li) => li.dataset.step);
  const at = order.indexOf(step);
  for (const li of document.querySelectorAll("#progress li")) {
    const i = order.indexOf(li.dataset.step);
    li.classList.toggle("done", i < at);
    li.classList.toggle("current", i === at);
    if (i === at) li.setAttribute("aria-current", "step"); else li.removeAttribute("aria-current");
  }
}

// The `honnin card sign` command that signs `message` exactly (manual fallback).
function signCommand(message) {
  const quoted = "'" + message.replaceAll("'", "'\\''") + "'";
  return `printf '%s' ${quoted} > honnin-message.txt\nhonnin card sign --message honnin-message.txt --out honnin-signature.bin --json`;
}
// The second command for age claims: the signing key signs the same message file.
const SIGNING_COMMAND = "honnin card sign --key signing --message honnin-message.txt --out honnin-signing-signature.bin --json";
// The card tool's JSON output, of `key` ("auth" or "signing"; older tools name no key).
function cardOutput(text, key = "auth") {
  try {
    const value = JSON.parse(text);
    if (value.ok === false && value.error) throw Object.assign(new Error(value.error), { code: value.error });
    if (typeof value.certificate !== "string" || typeof value.signature !== "string") throw new Error("bad_json");
    if ((value.key ?? "auth") !== key) throw new Error("bad_json");
    return value;
  } catch (error) {
    if (error.code) throw error;
    throw Object.assign(new Error("bad_json"), { code: null });
  }
}
// A paste that is not the card tool's output: says so in the problem box.
function badPaste(key) {
  lastProblem = null;
  $("problem-text").textContent = t(key);
  $("problem-action").textContent = "";
  delete $("problem").dataset.code;
  $("problem").hidden = false;
}

// ---- the card bridge (`honnin card bridge`): the PIN is typed in its terminal, never here ----
const bridgeUrl = () => (document.querySelector('meta[name="honnin-bridge"]')?.content ?? "").replace(/\/+$/, "");
function bridgeLine(statusId, key) {
  $(statusId).dataset.t = key;
  $(statusId).textContent = t(key);
}
// What GET /v1/bridge said, per status line: { found, age } (age: it answers age requests).
const bridges = {};
// Shows the bridge's line and button for `statusId`; `age`: the age step is chosen.
function showBridge(statusId, buttonId, age = false) {
  const { found, age: canAge } = bridges[statusId] ?? { found: false, age: false };
  const usable = found && (!age || canAge);
  bridgeLine(statusId, !found ? "bridge_absent" : usable ? "bridge_found" : "bridge_no_age");
  $(buttonId).hidden = !usable;
}
// Asks GET /v1/bridge; shows the button when the bridge answers, else one line on how to start it.
async function offerBridge(statusId, buttonId, age = false) {
  let found = false, canAge = false;
  const url = bridgeUrl();
  if (url) {
    try {
      const response = await fetch(`${url}/v1/bridge`);
      const json = response.ok ? await response.json() : {};
      found = json.bridge === "honnin";
      canAge = json.age === true;
    } catch { found = false; }
  }
  bridges[statusId] = { found, age: canAge };
  showBridge(statusId, buttonId, age);
  return found;
}
// POSTs the exact message to /v1/sign (with `age`: the signing evidence too); the card's
// {certificate, signature[, signing_certificate, signing_signature]}, or null after a shown problem.
async function signThroughBridge(message, statusId, buttonId, age = false) {
  clearProblem();
  $(buttonId).disabled = true;
  const waiting = age ? "bridge_waiting_age" : "bridge_waiting";
  bridgeLine(statusId, waiting);
  say(t(waiting));
  try {
    const response = await fetch(`${bridgeUrl()}/v1/sign`, {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify(age ? { message, age: true } : { message }),
    });
    const json = await response.json().catch(() => ({}));
    if (!response.ok) { showProblem(json.code ?? "internal"); return null; }
    const card = cardOutput(JSON.stringify(json));
    if (age && (typeof json.signing_certificate !== "string" || typeof json.signing_signature !== "string")) {
      showProblem("internal");
      return null;
    }
    return card;
  } catch (e) {
    if (e.code) showProblem(e.code); else bridgeLine(statusId, "bridge_absent");
    return null;
  } finally {
    $(buttonId).disabled = false;
    if ($(statusId).dataset.t === waiting) showBridge(statusId, buttonId, age);
    say("");
  }
}

// ---- the flow ----
let challenge = null, walletSignature = null;
function setupVerify() {
  $("verify").hidden = false;
  progress("wallet");
  $("connect").addEventListener("click", async () => {
    try { if (await connect()) { $("ask").hidden = false; progress("challenge"); } } catch (e) { fail(e); }
  });
  $("ask").addEventListener("click", async () => {
    clearProblem();
    try {
      challenge = await api("POST", "/v1/challenges", inScope({ wallet: wallet.address }));
      $("message").textContent = challenge.message;
      $("message-box").hidden = false;
      progress("wallet_sign");
    } catch (e) { fail(e); }
  });
  $("wallet-sign").addEventListener("click", async () => {
    clearProblem();
    try {
      walletSignature = await personalSign(challenge.message);
      $("manual-command").textContent = signCommand(challenge.message);
      $("manual-signing-command").textContent = SIGNING_COMMAND;
      $("card-box").hidden = false;
      progress("card_sign");
      offerBridge("bridge-status", "bridge-sign", $("age").checked);
    } catch (e) { fail(e); }
  });
  // The age step: the second command and paste field, and whether the bridge can do it.
  $("age").addEventListener("change", () => {
    $("manual-signing").hidden = !$("age").checked;
    if (bridges["bridge-status"]) showBridge("bridge-status", "bridge-sign", $("age").checked);
  });
  // `signing`: { certificate, signature } of the signing key, for age claims (or null).
  async function submitCard(card, signing) {
    try {
      progress("submit");
      const body = {
        challenge_id: challenge.id, certificate: card.certificate,
        card_signature: card.signature, wallet_signature: walletSignature,
      };
      if (signing) Object.assign(body, { signing_certificate: signing.certificate, signing_signature: signing.signature });
      const accepted = await api("POST", "/v1/attestations", body);
      progress("chain");
      $("chain-box").hidden = false;
      if (signing) showClaims({ claims: accepted.claims, refused: accepted.claims_refused ?? [] });
      follow(wallet.address);
    } catch (e) { fail(e); }
  }
  $("submit").addEventListener("click", async () => {
    clearProblem();
    let card, signing = null;
    try { card = cardOutput($("card-json").value); } catch (e) { if (e.code) showProblem(e.code); else badPaste("bad_json"); return; }
    if ($("age").checked) {
      try { signing = cardOutput($("signing-json").value, "signing"); } catch (e) { if (e.code) showProblem(e.code); else badPaste("bad_signing_json"); return; }
    }
    await submitCard(card, signing);
  });
  $("bridge-sign").addEventListener("click", async () => {
    const age = $("age").checked;
    const card = await signThroughBridge(challenge.message, "bridge-status", "bridge-sign", age);
    if (!card) return;
    await submitCard(card, age ? { certificate: card.signing_certificate, signature: card.signing_signature } : null);
  });
}

async function follow(address) {
  for (;;) {
    let view;
    try { view = await api("GET", attestationPath(address)); } catch (e) { fail(e); return; }
    $("chain-status").textContent = t(view.status);
    $("chain-status").dataset.status = view.status;
    if (lastClaims && view.claims !== lastClaims.claims) showClaims({ ...lastClaims, claims: view.claims });
    if (view.tx_hash) {
      $("tx-line").hidden = false;
      const explorer = document.querySelector('meta[name="honnin-explorer"]')?.content;
      $("tx-link").textContent = view.tx_hash;
      if (explorer) $("tx-link").href = explorer.replace("{tx}", view.tx_hash); else $("tx-link").removeAttribute("href");
      $("block").textContent = view.block_number ?? "";
    }
    if (view.status === "active" && view.tx_hash) {
      $("verified").hidden = false;
      document.querySelectorAll("#progress li").forEach((li) => { li.classList.add("done"); li.classList.remove("current"); });
      return;
    }
    if (view.status !== "pending") return;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

// ---- status, self-revocation, erasure ----
function setupStatus() {
  $("status").hidden = false;
  $("status-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    clearProblem();
    try {
      const view = await api("GET", attestationPath($("status-wallet").value.trim()));
      $("sv-status").textContent = t(view.status);
      $("sv-status").dataset.status = view.status;
      $("sv-level").textContent = view.level;
      $("sv-expires").textContent = view.expires_at;
      const reason = view.revocation_reason;
      $("sv-reason").textContent = reason ? (TEXT[lang][`reason_${reason}`] ?? reason) : "—";
      $("sv-reason").dataset.reason = reason ?? "";
      lastStatusClaims = view.claims;
      $("sv-claims").textContent = claimNames(view.claims);
      $("sv-claims").dataset.claims = String(view.claims);
      $("status-view").hidden = false;
    } catch (e) { $("status-view").hidden = true; fail(e); }
  });
  $("revoke").addEventListener("click", async () => {
    clearProblem();
    try {
      if (!wallet && !(await connect())) return;
      const c = await api("POST", "/v1/challenges", inScope({ wallet: wallet.address, purpose: "revoke" }));
      const signature = await personalSign(c.message);
      await api("POST", "/v1/revocations", { challenge_id: c.id, wallet_signature: signature });
      say(t("revoked_done"));
      $("status-form").requestSubmit();
    } catch (e) { fail(e); }
  });
  let eraseChallenge = null;
  $("erase").addEventListener("click", async () => {
    clearProblem();
    try {
      if (!wallet && !(await connect())) return;
      eraseChallenge = await api("POST", "/v1/challenges", { wallet: wallet.address, purpose: "erase" });
      $("erase-command").textContent = signCommand(eraseChallenge.message);
      $("erase-box").hidden = false;
      offerBridge("erase-bridge-status", "erase-bridge-sign");
    } catch (e) { fail(e); }
  });
  async function submitErasure(card) {
    try {
      await api("POST", "/v1/erasures", { challenge_id: eraseChallenge.id, certificate: card.certificate, card_signature: card.signature });
      say(t("erased_done"));
    } catch (e) { fail(e); }
  }
  $("erase-bridge-sign").addEventListener("click", async () => {
    const card = await signThroughBridge(eraseChallenge.message, "erase-bridge-status", "erase-bridge-sign");
    if (card) await submitErasure(card);
  });
  $("erase-submit").addEventListener("click", async () => {
    clearProblem();
    try {
      const card = cardOutput($("erase-json").value);
      await api("POST", "/v1/erasures", { challenge_id: eraseChallenge.id, certificate: card.certificate, card_signature: card.signature });
      say(t("erased_done"));
    } catch (e) { if (e.code) showProblem(e.code); else fail(e); }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  $("lang").addEventListener("click", () => {
    lang = lang === "ja" ? "en" : "ja";
    localStorage.setItem("honnin.lang", lang);
    render();
  });
  render();
  showScope();
  if (location.pathname === "/status") setupStatus(); else setupVerify();
});
