"""Golden values for ../shared/fit-corpus, derived by cross-checking decoders (see comments).

Decoders: (A) python-fitparse 2.7.0 (FitFile(path).get_messages() iterated lazily, exception caught),
(B) garmin-fit-sdk 21.218.0 (Decoder(Stream.from_file(p)).read(), errors list), (C) fitparse 1.2.0 (own venv),
(D) an independent byte walk of the FIT framing (12/14-byte headers, data_size, record headers, definition
messages incl. developer fields, compressed-timestamp headers, header and file CRC-16).

Where they disagreed / failed, and what the bytes say:

 file                               | disagreement                              | resolution (bytes)
 -----------------------------------+-------------------------------------------+-------------------------------------------
 nick.fit                           | A: 14392 records; B, C, D: 14391           | last record (byte 403437) has 18 of 27 body
                                    |                                           | bytes; A yields the cut record -> 14391
 antfs-dump.63.fit                  | B: 0 records (stops at byte 426)           | all 686 records use compressed-timestamp
 compressed-speed-distance.fit      | B: 0 records (stops at byte 936)           | headers; B cannot read them. A,C,D: 686/755
 coros-pace-2-...-misaligned-fields | C: error at 41093, 1785 rec, 0 sessions    | event field 3 (uint32) declared 1 byte;
                                    |                                           | framing fine, A/B/D: 11272 records, ok
 bouldering*.fit                    | C: sub_sport 69 (int)                      | A/B profile: 69 = "bouldering"
 activity-activity-filecrc.fit      | A with check_crc=False: 1 session/14 rec   | A's check_crc=False never consumes the CRC
 (and every file)                   | + bogus "header" error at the CRC          | bytes (bug); use check_crc=True values
 6 files with header CRC 0x0000     | B check_integrity() == False               | 0x0000 = "not computed" per protocol; file
                                    |                                           | CRCs good -> not an error
 strava-android-app-...fit          | all agree (473 rec, stop at 7471)          | record at 7451 is one byte short; see entry
 event_timestamp.fit,               | manifest: "chained x5"/"x4" but one        | files 2..n hold only `hr` (global 132)
 sample_mulitple_header.fit         | file_id                                    | messages; all CRCs good -> ok

Sets (strength): A, B, C agree on every set message; A/C return category numbers, B names; names below come
from garmin_fit_sdk.Profile['types']['exercise_category'] (65534 -> 'unknown').
Sessions: A and B agree on sport/sub_sport/total_distance/total_timer_time for every file (C differs only
as noted). Summarised sessions (no session message) use complete records only; sub_sport is None there.
No file in the corpus is 'rejected' (every first header is valid).
"""

import datetime as dt

GOLDEN = {
    # header CRC is 0x0000 ("not computed", allowed by the FIT protocol); garmin-fit-sdk
    # check_integrity() still says False because it compares 0x0000 with the computed value. File CRC good -> ok.
    'fitparse-tests/2013-02-06-12-11-14.fit': dict(status='ok', file_type='activity', reason=None, records=590,
        sessions=[dict(sport='running', sub_sport='generic', distance_m=4835.38, timer_s=2625.14, summarised=False)],
        strength=None),
    'fitparse-tests/2015-10-13-08-43-15.fit': dict(status='ok', file_type='activity', reason=None, records=221,
        sessions=[dict(sport='cycling', sub_sport='generic', distance_m=11536.43, timer_s=1558.198, summarised=False)],
        strength=None),
    'fitparse-tests/20170518-191602-1740899583.fit': dict(status='ok', file_type='activity', reason=None, records=1641,
        sessions=[dict(sport='fitness_equipment', sub_sport='indoor_rowing', distance_m=0.0, timer_s=1707.308, summarised=False)],
        strength=None),
    'fitparse-tests/2019-02-17-062644-ELEMNT-297E-195-0.fit': dict(status='ok', file_type='activity', reason=None, records=13471,
        sessions=[dict(sport='cycling', sub_sport=None, distance_m=78940.55, timer_s=13471.0, summarised=False)],
        strength=None),
    'fitparse-tests/Activity.fit': dict(status='ok', file_type='activity', reason=None, records=14,
        sessions=[dict(sport='running', sub_sport='generic', distance_m=5.73, timer_s=13.749, summarised=False)],
        strength=None),
    # activity without a session message -> partial, one summarised session. No sport message -> "generic".
    # Its 3 records carry no timestamp field (only hr, cadence, distance, speed + developer field), so start/
    # elapsed cannot be computed: timer_s=None. distance = max record distance = 371000/100 = 3710.0 m.
    'fitparse-tests/DeveloperData.fit': dict(status='partial', file_type='activity', reason='no session message (one session summarised from records)', records=3,
        sessions=[dict(sport='generic', sub_sport=None, distance_m=3710.0, timer_s=None, summarised=True)],
        strength=None),
    # header CRC 0x0000 (not computed): garmin-fit-sdk check_integrity() False, file CRC good -> ok.
    'fitparse-tests/Edge810-Vector-2013-08-16-15-35-10.fit': dict(status='ok', file_type='activity', reason=None, records=4700,
        sessions=[dict(sport='cycling', sub_sport='generic', distance_m=41339.38, timer_s=4700.05, summarised=False)],
        strength=None),
    'fitparse-tests/MonitoringFile.fit': dict(status='skipped', file_type='monitoring_b', reason=None, records=0,
        sessions=[],
        strength=None),
    # header CRC 0x0000 (not computed): garmin-fit-sdk check_integrity() False, file CRC good.
    'fitparse-tests/Settings.fit': dict(status='skipped', file_type='settings', reason=None, records=0,
        sessions=[],
        strength=None),
    'fitparse-tests/Settings2.fit': dict(status='skipped', file_type='settings', reason=None, records=0,
        sessions=[],
        strength=None),
    # weight files: every weight_scale message, as fitparse 2.7.0 reads them (timestamp, weight kg, percent_fat,
    # user_profile_index); the second user of the multi-user file weighs 58.2 kg
    'fitparse-tests/WeightScaleMultiUser.fit': dict(status='ok', file_type='weight', reason=None, records=0,
        sessions=[],
        strength=None,
        weights=[(dt.datetime(2009, 9, 9, 21, 38), 75.8, 22.3, 0), (dt.datetime(2009, 9, 9, 22, 38), 58.2, 25.1, 1)]),
    'fitparse-tests/WeightScaleSingleUser.fit': dict(status='ok', file_type='weight', reason=None, records=0,
        sessions=[],
        strength=None,
        weights=[(dt.datetime(2009, 9, 9, 21, 38), 75.8, 22.3, None),
                 (dt.datetime(2009, 9, 9, 22, 38), 76.09, 25.1, None)]),
    'fitparse-tests/WorkoutCustomTargetValues.fit': dict(status='skipped', file_type='workout', reason=None, records=0,
        sessions=[],
        strength=None),
    'fitparse-tests/WorkoutIndividualSteps.fit': dict(status='skipped', file_type='workout', reason=None, records=0,
        sessions=[],
        strength=None),
    'fitparse-tests/WorkoutRepeatGreaterThanStep.fit': dict(status='skipped', file_type='workout', reason=None, records=0,
        sessions=[],
        strength=None),
    'fitparse-tests/WorkoutRepeatSteps.fit': dict(status='skipped', file_type='workout', reason=None, records=0,
        sessions=[],
        strength=None),
    # two chained copies of Activity.fit; the 2nd one has file CRC 0xB1D5 where 0xA1D5 is computed.
    # All decoders decode both parts (fitparse raises FitCRCError only after the last message; garmin-fit-sdk
    # reports "CRC Error at byte 1542") -> 2 sessions, 28 records, partial. (fitparse 2.7 with check_crc=False
    # loses part 2: it never consumes the CRC bytes and then fails on a bogus chained header.)
    'fitparse-tests/activity-activity-filecrc.fit': dict(status='partial', file_type='activity', reason='bad file CRC in chained file 2 (read 0xB1D5, computed 0xA1D5)', records=28,
        sessions=[
            dict(sport='running', sub_sport='generic', distance_m=5.73, timer_s=13.749, summarised=False),
            dict(sport='running', sub_sport='generic', distance_m=5.73, timer_s=13.749, summarised=False),
        ],
        strength=None),
    # Activity.fit with its file CRC bytes changed (0xB1D5 read, 0xA1D5 computed): data decodes whole -> partial.
    'fitparse-tests/activity-filecrc.fit': dict(status='partial', file_type='activity', reason='bad file CRC (read 0xB1D5, computed 0xA1D5)', records=14,
        sessions=[dict(sport='running', sub_sport='generic', distance_m=5.73, timer_s=13.749, summarised=False)],
        strength=None),
    'fitparse-tests/activity-large-fenxi2-multisport.fit': dict(status='ok', file_type='activity', reason=None, records=24239,
        sessions=[
            dict(sport='generic', sub_sport=None, distance_m=25072.07, timer_s=11738.24, summarised=False),
            dict(sport='transition', sub_sport=None, distance_m=224.24, timer_s=334.79, summarised=False),
            dict(sport='running', sub_sport=None, distance_m=2245.23, timer_s=2294.84, summarised=False),
            dict(sport='transition', sub_sport=None, distance_m=3.63, timer_s=4.3, summarised=False),
            dict(sport='running', sub_sport=None, distance_m=12740.37, timer_s=6764.48, summarised=False),
            dict(sport='transition', sub_sport=None, distance_m=617.55, timer_s=269.81, summarised=False),
            dict(sport='cycling', sub_sport=None, distance_m=28928.27, timer_s=3211.0, summarised=False),
        ],
        strength=None),
    # bytes 0..770 = Activity.fit (CRC good); at 771 a 12-byte header whose signature is ".GIT" not ".FIT".
    # fitparse: FitHeaderError, garmin-fit-sdk: "not a fit file" at 771; activity part kept -> partial.
    'fitparse-tests/activity-settings-corruptheader.fit': dict(status='partial', file_type='activity', reason="corrupt header of chained file 2 at byte 771 ('.GIT' signature)", records=14,
        sessions=[dict(sport='running', sub_sport='generic', distance_m=5.73, timer_s=13.749, summarised=False)],
        strength=None),
    # bytes 0..770 = Activity.fit (CRC good); at 771 a 12-byte settings header declaring data_size 68,
    # but only 3 bytes follow (783: 0x40 definition header + 2 of its 5 fixed bytes), no CRC. All decoders hit EOF.
    'fitparse-tests/activity-settings-nodata.fit': dict(status='partial', file_type='activity', reason='truncated: chained file 2 ends 3 bytes into its 68-byte data section', records=14,
        sessions=[dict(sport='running', sub_sport='generic', distance_m=5.73, timer_s=13.749, summarised=False)],
        strength=None),
    # chained activity (771 B) + settings (82 B), both file CRCs good -> ok; file_type from the first file.
    'fitparse-tests/activity-settings.fit': dict(status='ok', file_type='activity', reason=None, records=14,
        sessions=[dict(sport='running', sub_sport='generic', distance_m=5.73, timer_s=13.749, summarised=False)],
        strength=None),
    'fitparse-tests/activity-small-fenix2-run.fit': dict(status='ok', file_type='activity', reason=None, records=2809,
        sessions=[dict(sport='running', sub_sport=None, distance_m=9008.22, timer_s=2832.0, summarised=False)],
        strength=None),
    # Activity.fit cut to 768 bytes (header promises 12+757+2 = 771). The last message (activity, global 34,
    # 1+17 bytes) starts at 751 with 16 body bytes left. All 14 records and the session precede it -> partial.
    'fitparse-tests/activity-unexpected-eof.fit': dict(status='partial', file_type='activity', reason='truncated: EOF inside the last (activity) message at byte 751; no file CRC', records=14,
        sessions=[dict(sport='running', sub_sport='generic', distance_m=5.73, timer_s=13.749, summarised=False)],
        strength=None),
    # every one of the 686 records uses a compressed-timestamp header (first at byte 426).
    # garmin-fit-sdk stops there ("Compressed timestamp messages are not currently supported") -> 0 records;
    # it still has the session because this FR70 writes session/lap before the records. fitparse 1.2/2.7 and a
    # byte walk agree on 686 records, CRC good -> ok. total_distance is absent (invalid) -> distance_m None.
    'fitparse-tests/antfs-dump.63.fit': dict(status='ok', file_type='activity', reason=None, records=686,
        sessions=[dict(sport='running', sub_sport=None, distance_m=None, timer_s=3426.898, summarised=False)],
        strength=None),
    # all 755 records use compressed-timestamp headers (first at byte 936); garmin-fit-sdk stops there
    # (0 records, session already read). fitparse 1.2/2.7 and byte walk: 755, CRC good -> ok.
    'fitparse-tests/compressed-speed-distance.fit': dict(status='ok', file_type='activity', reason=None, records=755,
        sessions=[dict(sport='running', sub_sport=None, distance_m=10248.67, timer_s=3772.75, summarised=False)],
        strength=None),
    # the event (global 21) definition at byte 41093 declares field 3 (data, uint32) with size 1.
    # fitparse 1.2.0 raises there (1785 records, no session); fitparse 2.7 falls back to bytes and garmin-fit-sdk
    # reads it; the declared size keeps the framing intact, the walk reaches the CRC (good) -> 11272 records, ok.
    'fitparse-tests/coros-pace-2-cycling-misaligned-fields.fit': dict(status='ok', file_type='activity', reason=None, records=11272,
        sessions=[dict(sport='cycling', sub_sport=None, distance_m=32145.76, timer_s=11287.0, summarised=False)],
        strength=None),
    'fitparse-tests/developer-types-sample.fit': dict(status='ok', file_type='activity', reason=None, records=3424,
        sessions=[dict(sport='running', sub_sport='generic', distance_m=6753.99, timer_s=3424.0, summarised=False)],
        strength=None),
    'fitparse-tests/elemnt-bolt-no-application-id-inside-developer-data-id.fit': dict(status='ok', file_type='activity', reason=None, records=132,
        sessions=[dict(sport='cycling', sub_sport=None, distance_m=963.65, timer_s=132.0, summarised=False)],
        strength=None),
    # 5 chained FIT files, all CRCs good; files 2-5 (from byte 58965) hold only `hr` messages (global 132,
    # 1415 in all: buffered HRM-Swim heart rate), no file_id/session/record. Sessions/records come from file 1.
    'fitparse-tests/event_timestamp.fit': dict(status='ok', file_type='activity', reason=None, records=4376,
        sessions=[dict(sport='swimming', sub_sport='lap_swimming', distance_m=2606.04, timer_s=4371.56, summarised=False)],
        strength=None),
    'fitparse-tests/garmin-edge-500-activity.fit': dict(status='ok', file_type='activity', reason=None, records=10686,
        sessions=[dict(sport='cycling', sub_sport=None, distance_m=92622.34, timer_s=10641.06, summarised=False)],
        strength=None),
    'fitparse-tests/garmin-edge-820-bike.fit': dict(status='ok', file_type='activity', reason=None, records=15,
        sessions=[dict(sport='cycling', sub_sport='commuting', distance_m=457.12, timer_s=64.524, summarised=False)],
        strength=None),
    'fitparse-tests/garmin-fenix-5-bike.fit': dict(status='ok', file_type='activity', reason=None, records=19,
        sessions=[dict(sport='cycling', sub_sport='generic', distance_m=459.52, timer_s=60.363, summarised=False)],
        strength=None),
    'fitparse-tests/garmin-fenix-5-run.fit': dict(status='ok', file_type='activity', reason=None, records=21,
        sessions=[dict(sport='running', sub_sport='generic', distance_m=157.56, timer_s=56.887, summarised=False)],
        strength=None),
    'fitparse-tests/garmin-fenix-5-walk.fit': dict(status='ok', file_type='activity', reason=None, records=17,
        sessions=[dict(sport='walking', sub_sport='generic', distance_m=67.85, timer_s=45.379, summarised=False)],
        strength=None),
    # upper-case extension; same bytes as Settings.fit (header CRC 0x0000).
    'fitparse-tests/nametest.FIT': dict(status='skipped', file_type='settings', reason=None, records=0,
        sessions=[],
        strength=None),
    # fitparse 2.7 says 14392 records, fitparse 1.2, garmin-fit-sdk and a byte walk say 14391. Bytes: header
    # data_size 403440 (data would end at 403454, CRC at 403454..403455, file is 403456 bytes), but the last record
    # (local 1, 27-byte body) starts at 403437 and only 18 body bytes exist (ts 0x39BFB31E, lat, long, distance,
    # altitude); the trailing "40 00" is its altitude field, not a CRC (CRC of bytes 0..403453 is 0x1AD2). fitparse 2.7
    # stops reading fields at EOF and yields that cut record anyway ("terminated unexpectedly" warning), then fails
    # reading the CRC. A cut record must not count -> 14391. No session message -> summarised: sport "cycling" from
    # the sport message; start 2020-09-12T12:23:38Z, last complete record 17:02:21Z -> timer 16723 s (the cut record
    # would give 16724); distance = max complete-record distance 113550.87 m (the cut one would give 113554.70).
    'fitparse-tests/nick.fit': dict(status='partial', file_type='activity', reason='no session message; truncated: EOF inside a record message at byte 403437; no file CRC', records=14391,
        sessions=[dict(sport='cycling', sub_sport=None, distance_m=113550.87, timer_s=16723.0, summarised=True)],
        strength=None),
    'fitparse-tests/null_compressed_speed_dist.fit': dict(status='ok', file_type='activity', reason=None, records=1808,
        sessions=[dict(sport='cycling', sub_sport='virtual_activity', distance_m=13400.14, timer_s=1808.0, summarised=False)],
        strength=None),
    # header CRC 0x0000 (not computed): garmin-fit-sdk check_integrity() False, file CRC good -> ok.
    'fitparse-tests/sample-activity-indoor-trainer.fit': dict(status='ok', file_type='activity', reason=None, records=2263,
        sessions=[dict(sport='cycling', sub_sport='generic', distance_m=0.0, timer_s=2261.85, summarised=False)],
        strength=None),
    'fitparse-tests/sample-activity.fit': dict(status='ok', file_type='activity', reason=None, records=3098,
        sessions=[dict(sport='cycling', sub_sport=None, distance_m=88797.21, timer_s=10699.36, summarised=False)],
        strength=None),
    # 4 chained FIT files, all CRCs good; files 2-4 (from byte 56305) hold only `hr` messages (global 132,
    # 1161 in all), no file_id/session/record. 5 multisport sessions + 1773 records come from file 1.
    'fitparse-tests/sample_mulitple_header.fit': dict(status='ok', file_type='activity', reason=None, records=1773,
        sessions=[
            dict(sport='swimming', sub_sport='open_water', distance_m=1644.71, timer_s=1987.521, summarised=False),
            dict(sport='transition', sub_sport='generic', distance_m=141.7, timer_s=170.269, summarised=False),
            dict(sport='cycling', sub_sport='generic', distance_m=40909.42, timer_s=4422.14, summarised=False),
            dict(sport='transition', sub_sport='generic', distance_m=31.93, timer_s=60.724, summarised=False),
            dict(sport='running', sub_sport='generic', distance_m=9805.92, timer_s=2850.694, summarised=False),
        ],
        strength=None),
    # all decoders stop at byte 7471: a data header 0x3B = local type 11, never defined. Cause in the bytes:
    # the record at 7451 (local 1 = lat,long,enh_altitude(4),speed(2),gps_accuracy,timestamp: 19-byte body) is one
    # byte short ("... 00 00 1f 0a | 98 10 | 3b ..."), so the next message header 0x02 is read as the last timestamp
    # byte (0xB486B102 = 2085-12-21) and 0x3B lands where a header is expected. The header data_size (78236) also
    # promises 19 more bytes than the file has. The session (written at byte 428, before the records) is intact.
    # records = 473 as every decoder reports (the 473rd is that misaligned record: framed complete, values garbage).
    'fitparse-tests/strava-android-app-201.10-b1218918.fit': dict(status='partial', file_type='activity', reason='invalid message: data message for undefined local type 11 at byte 7471', records=473,
        sessions=[dict(sport='running', sub_sport=None, distance_m=11274.04, timer_s=3558.0, summarised=False)],
        strength=None),
    # sub_sport 69: fitparse 1.2.0 has no name for it (int 69); fitparse 2.7 and garmin-fit-sdk: "bouldering".
    'garmin-fenix6s/bouldering.fit': dict(status='ok', file_type='activity', reason=None, records=116,
        sessions=[dict(sport='rock_climbing', sub_sport='bouldering', distance_m=None, timer_s=181.067, summarised=False)],
        strength=None),
    # sub_sport 69 = "bouldering" (fitparse 1.2.0 shows the int). No total_distance -> None.
    'garmin-fenix6s/bouldering_18_climbs.fit': dict(status='ok', file_type='activity', reason=None, records=2426,
        sessions=[dict(sport='rock_climbing', sub_sport='bouldering', distance_m=None, timer_s=3403.076, summarised=False)],
        strength=None),
    'garmin-fenix6s/duathlon.fit': dict(status='ok', file_type='activity', reason=None, records=1364,
        sessions=[
            dict(sport='running', sub_sport='generic', distance_m=5059.48, timer_s=1330.852, summarised=False),
            dict(sport='transition', sub_sport='generic', distance_m=192.24, timer_s=254.49, summarised=False),
            dict(sport='cycling', sub_sport='road', distance_m=21091.49, timer_s=2271.078, summarised=False),
            dict(sport='transition', sub_sport='generic', distance_m=109.16, timer_s=167.426, summarised=False),
            dict(sport='running', sub_sport='generic', distance_m=3078.48, timer_s=765.181, summarised=False),
        ],
        strength=None),
    'garmin-fenix6s/hiking.fit': dict(status='ok', file_type='activity', reason=None, records=1871,
        sessions=[dict(sport='hiking', sub_sport='generic', distance_m=5087.27, timer_s=7041.54, summarised=False)],
        strength=None),
    # file type 68 (hrv) has no name in either profile -> int.
    'garmin-fenix6s/hrv1.fit': dict(status='skipped', file_type=68, reason=None, records=0,
        sessions=[],
        strength=None),
    'garmin-fenix6s/hrv2.fit': dict(status='skipped', file_type=68, reason=None, records=0,
        sessions=[],
        strength=None),
    'garmin-fenix6s/monitor1_with_all.fit': dict(status='skipped', file_type='monitoring_b', reason=None, records=0,
        sessions=[],
        strength=None),
    'garmin-fenix6s/monitor2_with_all.fit': dict(status='skipped', file_type='monitoring_b', reason=None, records=0,
        sessions=[],
        strength=None),
    'garmin-fenix6s/monitor_with_intensities.fit': dict(status='skipped', file_type='monitoring_b', reason=None, records=0,
        sessions=[],
        strength=None),
    # recorded by an fr310xt, header CRC 0x0000 (not computed): garmin-fit-sdk check_integrity() False,
    # file CRC good -> ok.
    'garmin-fenix6s/mountain_biking.fit': dict(status='ok', file_type='activity', reason=None, records=2088,
        sessions=[dict(sport='cycling', sub_sport='generic', distance_m=20525.4, timer_s=6770.675, summarised=False)],
        strength=None),
    'garmin-fenix6s/road_cycling.fit': dict(status='ok', file_type='activity', reason=None, records=5989,
        sessions=[dict(sport='cycling', sub_sport='road', distance_m=47094.01, timer_s=5985.31, summarised=False)],
        strength=None),
    'garmin-fenix6s/running.fit': dict(status='ok', file_type='activity', reason=None, records=706,
        sessions=[dict(sport='running', sub_sport='generic', distance_m=8587.41, timer_s=2952.769, summarised=False)],
        strength=None),
    'garmin-fenix6s/running_with_3x1km_workout.fit': dict(status='ok', file_type='activity', reason=None, records=659,
        sessions=[dict(sport='running', sub_sport='generic', distance_m=8047.28, timer_s=2280.471, summarised=False)],
        strength=None),
    'garmin-fenix6s/running_workout_2x(5x400m_3min)_3min.fit': dict(status='ok', file_type='activity', reason=None, records=1272,
        sessions=[dict(sport='running', sub_sport='generic', distance_m=10282.36, timer_s=3972.808, summarised=False)],
        strength=None),
    'garmin-fenix6s/settings.fit': dict(status='skipped', file_type='settings', reason=None, records=0,
        sessions=[],
        strength=None),
    # file type 49 (sleep) has no name in either profile -> int.
    'garmin-fenix6s/sleep1.fit': dict(status='skipped', file_type=49, reason=None, records=0,
        sessions=[],
        strength=None),
    'garmin-fenix6s/sleep2.fit': dict(status='skipped', file_type=49, reason=None, records=0,
        sessions=[],
        strength=None),
    'garmin-fenix6s/trail_running.fit': dict(status='ok', file_type='activity', reason=None, records=2654,
        sessions=[dict(sport='running', sub_sport='trail', distance_m=16049.29, timer_s=8367.7, summarised=False)],
        strength=None),
    # all decoders agree on the 16 set messages. Categories: fitparse gives raw ints, mapped with
    # garmin_fit_sdk.Profile; first candidates of the 8 active sets: 65534 (unknown), 28 (squat), 21 (pull_up).
    # weight is None or 0.0 on every active set -> volume 0.0. Byte-identical to training_strength.fit.
    'garmin-fenix6s/training.fit': dict(status='ok', file_type='activity', reason=None, records=253,
        sessions=[dict(sport='training', sub_sport='strength_training', distance_m=0.0, timer_s=481.269, summarised=False)],
        strength={'active_sets': 8, 'total_reps': 34, 'volume_kg': 0.0, 'categories': ['pull_up', 'squat', 'unknown']}),
    # 20 active sets (4+3+3+3+1+1+5 as the name says); no weights recorded -> volume 0.0.
    'garmin-fenix6s/training_4pull_up_3push_up_3curl_3bench_press_1deadlift_1sit_up_5unknown.fit': dict(status='ok', file_type='activity', reason=None, records=573,
        sessions=[dict(sport='training', sub_sport='strength_training', distance_m=0.0, timer_s=1170.93, summarised=False)],
        strength={'active_sets': 20, 'total_reps': 216, 'volume_kg': 0.0, 'categories': ['bench_press', 'curl', 'deadlift', 'pull_up', 'push_up', 'sit_up', 'unknown']}),
    # byte-identical to training.fit.
    'garmin-fenix6s/training_strength.fit': dict(status='ok', file_type='activity', reason=None, records=253,
        sessions=[dict(sport='training', sub_sport='strength_training', distance_m=0.0, timer_s=481.269, summarised=False)],
        strength={'active_sets': 8, 'total_reps': 34, 'volume_kg': 0.0, 'categories': ['pull_up', 'squat', 'unknown']}),
    # 21 active sets; volume = sum(reps * weight_kg) = 1440.0 (weights 10/20 kg; suspension sets 0 reps).
    'garmin-fenix6s/training_with_workout.fit': dict(status='ok', file_type='activity', reason=None, records=902,
        sessions=[dict(sport='training', sub_sport='strength_training', distance_m=0.0, timer_s=1840.914, summarised=False)],
        strength={'active_sets': 21, 'total_reps': 181, 'volume_kg': 1440.0, 'categories': ['bench_press', 'core', 'curl', 'lateral_raise', 'pull_up', 'push_up', 'suspension']}),
    'garmin-fenix6s/walking.fit': dict(status='ok', file_type='activity', reason=None, records=575,
        sessions=[dict(sport='walking', sub_sport='generic', distance_m=4919.18, timer_s=2970.282, summarised=False)],
        strength=None),
    'misc/0134902991.fit': dict(status='ok', file_type='activity', reason=None, records=739,
        sessions=[dict(sport='cycling', sub_sport='indoor_cycling', distance_m=7123.39, timer_s=720.318, summarised=False)],
        strength=None),
    # despite the name, framing and CRC are clean in all decoders; only quirk found: developer_data_id for
    # index 0 is written twice.
    'misc/mornindew-broken.fit': dict(status='ok', file_type='activity', reason=None, records=6874,
        sessions=[dict(sport='running', sub_sport='generic', distance_m=16773.34, timer_s=6855.96, summarised=False)],
        strength=None),
    # strings without NUL terminator; framing and CRC clean in all decoders -> ok.
    'misc/unterminated-strings.fit': dict(status='ok', file_type='activity', reason=None, records=33,
        sessions=[dict(sport='cycling', sub_sport='indoor_cycling', distance_m=69.0, timer_s=32.0, summarised=False)],
        strength=None),
}
