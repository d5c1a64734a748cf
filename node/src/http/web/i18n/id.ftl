# Kawan web page — Bahasa Indonesia. DRAFT for native review (docs/localisation.md).
lang-name = Bahasa Indonesia

nav-home = Beranda
nav-bulk = Cek massal
nav-publish = Terbitkan
nav-library = Tipologi & teknik
nav-referrals = Rujukan
nav-alerts = Peringatan
nav-deconflict = Dekonfliksi
nav-cases = Kasus
nav-network = Jaringan
log-out = Keluar
language = Bahasa

search-button = Cari
search-any-kind = jenis apa pun
search-placeholder = nomor telepon, tautan t.me, dompet, URL…
home-unread-why = mitra menerbitkan nilai yang Anda pantau atau simpan dalam kasus.
search-kind = jenis
search-title = Pencarian

home-title = Beranda
home-since = Sejak kunjungan terakhir Anda ({ $date })
home-last-day = Dalam sehari terakhir
home-no-new = Tidak ada catatan baru dari mitra.
home-new = { $n } catatan baru dari mitra.
home-by-agency = Menurut lembaga
home-by-kind = Menurut jenis
home-by-channel = Menurut saluran
home-waiting = Menunggu Anda
home-unread = { $n } peringatan belum dibaca
home-latest = terbaru: { $agency } menerbitkan
home-contacts = { $n } permintaan kontak dari mitra
home-to-answer = untuk dijawab
home-expired = { $n } indikator lembaga ini melewati masa berlakunya: periksa ulang atau tarik kembali
home-revised = { $n } catatan yang dipakai kasus Anda direvisi oleh penulisnya
home-past-validity = Melewati masa berlaku
home-revised-title = Direvisi sejak terakhir Anda lihat
home-network = Jaringan
home-connected = { $n } dari { $m } node mitra terhubung
home-details = rincian
home-weeks = { $n } minggu terakhir
chart-weekly-kind = Catatan per minggu, menurut jenis
chart-weekly-agency = Catatan per minggu, menurut lembaga
chart-top-platforms = Platform teratas
chart-top-countries = Negara teratas
chart-week-of = Minggu
chart-records = catatan
chart-indicators = indikator
chart-others = Lainnya
none-yet = Belum ada.

channel-network = Seluruh jaringan
channel-group = Grup berbagi { $group }

kind-phone = Nomor telepon
kind-email = Alamat email
kind-url = URL
kind-domain = Domain
kind-ip = Alamat IP
kind-telegram_handle = Akun Telegram
kind-line_id = ID LINE
kind-wechat_id = ID WeChat
kind-social_profile = Profil media sosial
kind-tron_address = Dompet TRON
kind-evm_address = Dompet gaya Ethereum
kind-btc_address = Dompet Bitcoin
kind-bank_account = Rekening bank
kind-company_name = Nama perusahaan
kind-app_id = Aplikasi
kind-image_hash = Hash gambar
kind-typology = Tipologi
kind-technique = Teknik
kind-referral = Rujukan

# Tables of shared knowledge
col-value = Nilai
col-tlp = TLP
col-agency = Lembaga
col-confidence = Keyakinan
col-seen = Pertama / terakhir terlihat
col-sightings = Konfirmasi
col-flags = Tanda
flag-retracted = ditarik
flag-revised = direvisi ×{ $n }
flag-revoked = penulis dicabut
flag-equivocating = penulis bermuka dua
flag-false-positive = positif palsu ×{ $n }

# Search results
search-invalid = Bukan nilai yang sah: { $error }
search-matched = Dicocokkan sebagai
search-no-hit = Belum ada lembaga yang membagikan nilai ini.

# Cases
cases-title = Kasus
case-title = Kasus { $reference }
cases-stay = Kasus tetap di node ini. Tidak ada yang dikirim ke lembaga lain.
case-stays = Kasus ini tetap di node ini. Tidak ada yang dikirim ke lembaga lain.
cases-col-reference = Nomor
cases-col-title = Judul
cases-col-linked = Catatan tertaut
case-values = Nilai yang dimiliki kasus ini
case-values-note = Disimpan di node ini. Dipantau: peringatan muncul bila mitra menerbitkannya.
case-opted-out = Kasus ini dikecualikan dari dekonfliksi: mitra yang bertanya tentang nilainya tidak mendapat hasil dari kasus ini.
case-deconflictable = Dapat didekonfliksi: mitra yang bertanya hanya tahu bahwa lembaga ini memiliki sesuatu tentangnya.
case-add-value = Tambah nilai (bentuk apa pun; jenisnya dikenali)
case-add = Tambah
case-ask = Tanyakan ke jaringan siapa lagi yang memiliki nilai kasus ini (tujuan, dicatat oleh setiap anggota)
case-deconflict = Dekonfliksi kasus ini
case-linked = Catatan bersama yang tertaut
case-none = Tidak ada.
case-others = Pihak lain pada nilai yang sama
case-no-others = Belum ada lembaga lain yang menerbitkan nilai dari kasus ini.
case-published = { $agency } menerbitkan
case-see = lihat

# One value of a kind
kind1-phone = Nomor telepon
kind1-email = Alamat email
kind1-url = URL
kind1-domain = Domain
kind1-ip = Alamat IP
kind1-telegram_handle = Akun Telegram
kind1-line_id = ID LINE
kind1-wechat_id = ID WeChat
kind1-social_profile = Profil media sosial
kind1-tron_address = Dompet TRON
kind1-evm_address = Dompet gaya Ethereum
kind1-btc_address = Dompet Bitcoin
kind1-bank_account = Rekening bank
kind1-company_name = Nama perusahaan
kind1-app_id = Aplikasi
kind1-image_hash = Hash gambar

# Login
login-title = Masuk
login-token = Token API
login-button = Masuk
login-help = Mintalah token kepada operator node Anda (kawan token create NAMA --role analyst).
login-unknown = Token tidak dikenal atau telah dicabut.
login-link-used = Tautan masuk ini sudah dipakai atau kedaluwarsa.

# Alerts
alerts-title = Peringatan
alerts-intro = { $n } peringatan belum dibaca. Peringatan muncul ketika sebuah catatan tiba — dari mitra atau dari rekan di sini — yang nilainya Anda pantau, atau yang dimiliki salah satu kasus lembaga ini. Tidak ada informasi tentang kecocokan ini yang keluar dari node ini.
alerts-col-when = Kapan
alerts-col-who = Diterbitkan oleh
alerts-col-value = Nilai
alerts-col-matched = Cocok dengan
alerts-watch-entry = entri pantauan { $id }
alerts-case = kasus { $id }
alerts-seen-by = dilihat oleh { $name }
alerts-mark-seen = Tandai sudah dilihat
alerts-none = Belum ada peringatan: peringatan baru muncul di sini saat tiba.
alerts-dead = { $n } peringatan tidak dapat dikirim ke webhook sistem kasus:
alerts-watchlist = Daftar pantauan Anda
alerts-kind = Jenis
alerts-value-any = Nilai (bentuk apa pun; akan dinormalkan)
alerts-note = Catatan
alerts-watch = Pantau
alerts-type-indicator = indikator
alerts-type-revision = revisi
alerts-type-sighting = konfirmasi
alerts-type-referral = rujukan
alerts-type-retraction = penarikan
alerts-type-typology = tipologi
alerts-type-technique = teknik
alerts-type-contact_request = permintaan kontak
alerts-type-contact_answer = jawaban kontak

# Deconfliction
dc-title = Dekonfliksi
dc-intro = Tanyakan kepada setiap anggota apakah ia memiliki sesuatu tentang nilai-nilai — dalam catatan bersama, catatan yang ditahan, atau kasus lokalnya. Tidak ada anggota yang mengetahui nilainya; masing-masing hanya menjawab cocok atau tidak, dan setiap permintaan ditandatangani, dicatat oleh setiap anggota beserta tujuannya, dan dibatasi lajunya. Kecocokan ditindaklanjuti dengan meminta anggota itu menghubungi Anda, yang memperlihatkan nilainya kepadanya.
dc-values = Nilai, satu per baris (hingga 1.000; jenis dikenali)
dc-purpose = Tujuan (dicatat oleh setiap anggota)
dc-ask = Tanya jaringan
dc-partners-asking = Mitra yang ingin berbicara
dc-asked = Pertanyaan yang diajukan
dc-none = Belum ada.
dc-sent = Permintaan kontak terkirim
dc-to = kepada { $agency } tentang
dc-talk-to = hubungi: { $contact }
dc-col-member = Anggota
dc-col-answer = Jawaban
dc-no-answer = tidak ada jawaban: { $error }
dc-no-hit = tidak cocok
dc-hit = cocok pada { $n } nilai
dc-contact = kontak: { $contact }
dc-message-placeholder = Pesan (siapa Anda, mengapa)
dc-message-label = Pesan untuk pemegang data
dc-get-in-touch = Minta mereka menghubungi
dc-case-ref = kasus { $reference }
dc-asks-about = ({ $analyst }) bertanya tentang
dc-their-purpose = tujuan: { $purpose }
dc-their-case = kasus mereka { $reference }
dc-no-case-here = Tidak ada kasus di sini yang memilikinya (mungkin dalam catatan atau daftar pantauan).
dc-contact-point = Siapa yang harus mereka hubungi (bawaan: titik kontak node ini)
dc-answer-message = Pesan
dc-accept = Terima
dc-decline = Tolak
dc-answered-by = oleh { $name }
dc-status-pending = menunggu jawaban
dc-status-accepted = diterima
dc-status-declined = ditolak

# Indicator page
ind-title = Indikator
ind-agency = Lembaga
ind-role-subject = Peran / subjek
ind-confidence = Keyakinan
ind-seen = Pertama / terakhir terlihat
ind-platform = Platform / negara
ind-description = Deskripsi
ind-agencies = Lembaga yang menyatakannya
ind-typologies = Tipologi
ind-retracted = Ditarik
ind-referred = Dirujuk ke platform
ind-referred-by = Sudah dirujuk oleh { $agency } pada { $date }:
ind-not-yet = belum
ind-file = ajukan rujukan
ind-sightings = Konfirmasi
ind-none = Belum ada.
ind-corroborates = { $agency } menguatkan
ind-false-positive = { $agency } menyebutnya positif palsu
ind-history = Riwayat
ind-saw = Kami juga melihatnya
ind-mark-fp = Tandai positif palsu
role-recruiter_contact = Kontak perekrut
role-job_ad = Iklan lowongan kerja
role-scam_platform = Platform penipuan
role-payment = Pembayaran
role-laundering = Pencucian uang
role-infrastructure = Infrastruktur
subject-suspect = Tersangka
subject-victim = Korban
subject-unknown = Tidak diketahui
basis-fact = fakta
basis-assessment = penilaian

# Bulk check
bulk-title = Cek massal
bulk-values = Nilai, satu per baris (jenis dikenali; tulis jenis,nilai untuk memaksakan jenis)
bulk-load = …atau muat berkas teks atau CSV
bulk-check = Periksa
bulk-download = Unduh CSV
bulk-upload = Unggah berkas untuk diperiksa di node (teks, satu nilai per baris, atau CSV dengan kolom value; hingga 200.000 nilai)
bulk-check-file = Periksa berkas
bulk-check-download = Periksa dan unduh CSV
bulk-sum-values = nilai:
bulk-sum-hits = cocok,
bulk-sum-invalid = tidak sah.
bulk-show = Tampilkan
bulk-all = semua nilai
bulk-hits = yang cocok
bulk-col-input = Masukan
bulk-col-matched = Dicocokkan sebagai
bulk-col-status = Status
bulk-col-hits = Kecocokan
status-hit = cocok
status-no-hit = tidak cocok
status-invalid = tidak sah

# Network
net-title = Jaringan
net-none = Belum ada daftar kepercayaan yang dipasang.
net-summary = Jaringan { $network }, daftar kepercayaan versi { $version }, perlu { $threshold } tanda tangan koordinator.
net-col-member = Anggota
net-col-country = Negara
net-col-state = Keadaan
net-col-seen = Terakhir terlihat
net-col-lag = Selisih data
net-col-runs = Menjalankan
net-compromised = kunci diputus karena disusupi pada { $date }
net-rotated = kunci diganti pada { $date }
net-me = node ini
net-connected = terhubung
net-offline = luring
net-cannot-read = tidak dapat membaca catatan { $families }: perlu diperbarui
net-groups = Grup berbagi
net-audit = Log audit
net-intact = Utuh: { $n } entri.
net-in-sync = selaras
net-not-compared = belum dibandingkan
net-lag = { $channel }: ia punya { $theirs } yang kita tidak punya, kita punya { $ours } yang ia tidak punya

# A record of a newer kind
rec-title = Catatan
rec-record = Catatan
rec-kind = Jenis
rec-agency = Lembaga
rec-channel = Saluran
rec-signed = Ditandatangani
rec-newer = Node ini menyimpan dan meneruskan catatan persis seperti ditandatangani; versi Kawan yang lebih baru menampilkan isinya.

# Publish
pub-title = Terbitkan indikator
pub-kind = Jenis
pub-value = Nilai (bentuk apa pun; akan dinormalkan)
pub-role = Peran
pub-group = Grup berbagi (untuk AMBER)
pub-whole-network = — seluruh jaringan —
pub-confidence = Keyakinan (0-100)
pub-description = Deskripsi
pub-sign = Tandatangani dan terbitkan
pub-red = TLP RED tidak pernah keluar dari node ini: catat dalam kasus saja.
pub-knowledge = Terbitkan tipologi atau teknik
pub-what = Apa
pub-what-typology = tipologi (cara suatu pola bekerja)
pub-what-technique = teknik (cara menemukan dan membuktikannya)
pub-field-title = Judul
pub-summary = Ringkasan (tipologi) atau tujuan (teknik)
pub-stage = Tahap (tipologi)
pub-steps = Langkah (teknik), satu per baris
stage-recruitment = perekrutan
stage-transit = transit
stage-exploitation = eksploitasi
stage-scam = penipuan
stage-monetisation = monetisasi

# Library
lib-typologies = Tipologi
lib-techniques = Teknik
lib-search = cari judul dan ringkasan
