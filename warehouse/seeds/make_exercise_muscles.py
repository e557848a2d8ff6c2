"""Generate ``exercise_muscles.csv`` from Garmin's FIT profile: run it when the SDK adds exercises.

    .venv/bin/python warehouse/seeds/make_exercise_muscles.py > warehouse/seeds/exercise_muscles.csv

One row per exercise category of the profile (``exercise_name`` empty: the default for names without
a row of their own, e.g. a number the profile does not know) and one per exercise name of the
category (``<category>_exercise_name``). A name's muscles come from the first rule below that
matches it: explicit (category, name) overrides, then keyword rules (``RULES``, in order), then the
category's default (``CATEGORIES``). Categories that are not resistance work (cardio, warm-up,
running, cycling, yoga poses, mobility) are ``unmapped`` whatever their names say. The build reads
only the CSV; this script is kept so the mapping is reviewable and can be regenerated. The muscle
groups and the counting are documented in docs/metrics.md (*Muscle groups and weekly volume*).
"""

from __future__ import annotations

import csv
import re
import sys

from garmin_fit_sdk import Profile

Q, HK, HH, GL, CA, HS, CO, PU, PL = ("quadriceps", "hamstrings_knee_flexion", "hamstrings_hip_hinge", "glutes",
                                     "calves", "hip_stability", "core", "upper_push", "upper_pull")
UNMAPPED = "unmapped"

# categories that are not resistance exercises: every name in them is unmapped
NOT_RESISTANCE = {
    "cardio": "cardio conditioning (jump rope, jacks, wheelchair cardio): not a resistance set",
    "warm_up": "warm-up, mobility or stretch: not a resistance set",
    "run": "running: not a resistance set",
    "bike": "cycling: not a resistance set",
    "cardio_sensors": "cardio sensor exercise: not a resistance set",
    "move": "mobility / Pilates flow and breathing (Garmin 'move'): not counted as resistance sets",
    "pose": "yoga pose: not a resistance set",
    "elliptical": "cardio machine: not a resistance set",
    "floor_climb": "stair climbing: not a resistance set",
    "indoor_bike": "cardio machine: not a resistance set",
    "indoor_row": "rowing machine: cardio, not a resistance set",
    "ladder": "agility ladder: not a resistance set",
    "stair_stepper": "cardio machine: not a resistance set",
    "run_indoor": "running: not a resistance set",
    "bike_outdoor": "cycling: not a resistance set",
    "battle_rope": "battle ropes: conditioning intervals, not countable resistance sets",
    "sledge_hammer": "sledge hammer: conditioning intervals, not countable resistance sets",
    "unknown": "the watch could not tell the exercise",
}

# category defaults: (primary, secondaries, note)
CATEGORIES: dict[str, tuple[str, str, str]] = {
    "bench_press": (PU, "", "chest press"),
    "calf_raise": (CA, "", "plantar flexion"),
    "carry": (CO, PL, "loaded carry: trunk, with grip and upper back"),
    "chop": (CO, "", "trunk rotation"),
    "core": (CO, "", "trunk"),
    "crunch": (CO, "", "trunk flexion"),
    "curl": (PL, "", "elbow flexors (pulling muscles)"),
    "deadlift": (HH, GL, "hip hinge"),
    "flye": (PU, "", "chest fly"),
    "hip_raise": (GL, HH, "hip extension: bridge / hip thrust"),
    "hip_stability": (HS, "", "hip abductors / adductors / rotators"),
    "hip_swing": (HH, GL, "kettlebell swing: hip hinge"),
    "hyperextension": (HH, f"{GL};{CO}", "back extension: hip hinge with the spinal erectors"),
    "lateral_raise": (PU, "", "deltoid raise (counted with pushing)"),
    "leg_curl": (HK, "", "knee flexion"),
    "leg_raise": (CO, "", "trunk and hip flexors"),
    "lunge": (Q, GL, "knee-dominant, single leg"),
    "olympic_lift": (GL, f"{Q};{HH}", "triple extension (hips, knees, ankles): rough mapping"),
    "plank": (CO, "", "trunk (anti-extension / anti-rotation)"),
    "plyo": (Q, f"{GL};{CA}", "jumps: knee-dominant"),
    "pull_up": (PL, "", "vertical pull"),
    "push_up": (PU, "", "horizontal push"),
    "row": (PL, "", "horizontal pull"),
    "shoulder_press": (PU, "", "vertical push"),
    "shoulder_stability": (PL, "", "rotator cuff and scapular work (posterior shoulder): counted with pulling"),
    "shrug": (PL, "", "upper trapezius (pulling muscles)"),
    "sit_up": (CO, "", "trunk flexion"),
    "squat": (Q, GL, "knee-dominant"),
    "total_body": (Q, f"{GL};{PU};{CO}", "burpees and similar: whole body, counted as knee-dominant"),
    "triceps_extension": (PU, "", "elbow extensors (pushing muscles)"),
    "banded_exercises": (UNMAPPED, "", "band exercise the rules do not place"),
    "sandbag": (CO, "", "sandbag: trunk"),
    "sled": (Q, f"{GL};{CA}", "sled push / drag: knee-dominant"),
    "suspension": (CO, "", "suspension trainer: trunk"),
    "tire": (HH, f"{GL};{Q};{PU}", "tyre flip: hip hinge then push"),
}

# (category, name) whose name misleads the keyword rules: (primary, secondaries, note)
OVERRIDES: dict[tuple[str, str], tuple[str, str, str]] = {
    ("banded_exercises", "leg_extension"): (Q, "", "knee extension"),
    ("crunch", "leg_extensions"): (CO, "", "lying leg extensions: trunk, not knee extension"),
    ("core", "bicep_curl_with_leg_extension"): (CO, "", "Pilates trunk exercise"),
    ("core", "bicep_curl_with_leg_extension_with_weights"): (CO, "", "Pilates trunk exercise"),
    ("core", "ghd_back_extensions"): (HH, f"{GL};{CO}", "back extension: hip hinge with the spinal erectors"),
    ("core", "weighted_ghd_back_extensions"): (HH, f"{GL};{CO}", "back extension: hip hinge with the spinal erectors"),
    ("core", "triangle_hip_press"): (CO, "", "Pilates trunk exercise"),
    ("core", "weighted_triangle_hip_press"): (CO, "", "Pilates trunk exercise"),
    ("core", "cable_core_press"): (CO, "", "Pallof press: anti-rotation"),
    ("crunch", "frog_press"): (CO, "", "Pilates trunk exercise"),
    ("crunch", "reverse_curl_and_lift"): (CO, "", "trunk flexion"),
    ("crunch", "weighted_reverse_curl_and_lift"): (CO, "", "trunk flexion"),
    ("crunch", "triceps_crunch"): (CO, "", "trunk flexion"),
    ("crunch", "step_climb"): (CO, "", "trunk flexion"),
    ("crunch", "weighted_step_climb"): (CO, "", "trunk flexion"),
    ("sit_up", "reverse_curl_up"): (CO, "", "trunk flexion"),
    ("sit_up", "weighted_reverse_curl_up"): (CO, "", "trunk flexion"),
    ("sit_up", "get_up_sit_up"): (CO, "", "trunk flexion"),
    ("sit_up", "weighted_get_up_sit_up"): (CO, "", "trunk flexion"),
    ("sit_up", "sit_up_turkish_get_up"): (CO, "", "trunk flexion"),
    ("hyperextension", "lat_pull_down_with_row"): (PL, "", "pulldown and row"),
    ("hyperextension", "kicks"): (GL, HH, "prone hip extension kicks"),
    ("hyperextension", "weighted_kicks"): (GL, HH, "prone hip extension kicks"),
    ("hyperextension", "knee_raises"): (CO, "", "trunk and hip flexors"),
    ("hyperextension", "weighted_knee_raises"): (CO, "", "trunk and hip flexors"),
    ("hyperextension", "base_rotations"): (CO, "", "trunk rotation"),
    ("hyperextension", "weighted_base_rotations"): (CO, "", "trunk rotation"),
    ("hyperextension", "cobra"): (CO, "", "spinal extension (erectors)"),
    ("hyperextension", "supine_floor_barre"): (CO, "", "floor barre: trunk"),
    ("chop", "cable_pull_through"): (HH, GL, "hip hinge"),
    ("triceps_extension", "lying_dumbbell_pullover_to_extension"): (PU, PL, "triceps extension with a pullover"),
    ("lateral_raise", "rope_climb"): (PL, "", "vertical pull"),
    ("lateral_raise", "weighted_rope_climb"): (PL, "", "vertical pull"),
    ("lateral_raise", "standing_lift"): (PU, "", "deltoid raise (counted with pushing)"),
    ("lateral_raise", "wall_walk"): (PU, CO, "handstand wall walk"),
    ("row", "barbell_straight_leg_deadlift_to_row"): (HH, f"{GL};{PL}", "hip hinge then row"),
    ("row", "rdl_bent_over_row_with_barbell_dumbbell"): (HH, f"{GL};{PL}", "hip hinge then row"),
    ("deadlift", "dumbbell_single_leg_deadlift_to_row"): (HH, f"{GL};{PL}", "hip hinge then row"),
    ("deadlift", "kettlebell_floor_to_shelf"): (HH, GL, "hip hinge"),
    ("row", "renegade_row"): (PL, CO, "row from a plank"),
    ("push_up", "push_up_and_row"): (PU, PL, "push-up then row"),
    ("push_up", "weighted_push_up_and_row"): (PU, PL, "push-up then row"),
    ("push_up", "medicine_ball_chest_pass"): (PU, "", "horizontal push (throw)"),
    ("shrug", "serratus_chair_shrug"): (PU, "", "serratus anterior (protraction, pushing)"),
    ("shrug", "weighted_serratus_chair_shrug"): (PU, "", "serratus anterior (protraction, pushing)"),
    ("shrug", "serratus_shrug"): (PU, "", "serratus anterior (protraction, pushing)"),
    ("shrug", "weighted_serratus_shrug"): (PU, "", "serratus anterior (protraction, pushing)"),
    ("hip_stability", "dead_bug"): (CO, "", "trunk (anti-extension)"),
    ("hip_stability", "weighted_dead_bug"): (CO, "", "trunk (anti-extension)"),
    ("hip_stability", "quadruped"): (CO, "", "bird dog: trunk"),
    ("hip_stability", "quadruped_with_leg_lift"): (GL, CO, "quadruped hip extension"),
    ("hip_stability", "weighted_quadruped_with_leg_lift"): (GL, CO, "quadruped hip extension"),
    ("hip_raise", "leg_circles"): (HS, "", "side-lying / supine hip circles"),
    ("hip_raise", "leg_lift"): (HS, "", "side-lying leg lift (abductors)"),
    ("hip_raise", "leg_lift_in_external_rotation"): (HS, "", "side-lying leg lift (abductors)"),
    ("leg_raise", "lateral_stepover"): (HS, Q, "lateral step-over"),
    ("leg_raise", "weighted_lateral_stepover"): (HS, Q, "lateral step-over"),
    ("leg_raise", "quadruped_leg_raise"): (GL, CO, "quadruped hip extension"),
    ("leg_raise", "weighted_quadruped_leg_raise"): (GL, CO, "quadruped hip extension"),
    ("leg_raise", "reverse_leg_raise"): (GL, HH, "prone hip extension"),
    ("leg_raise", "weighted_reverse_leg_raise"): (GL, HH, "prone hip extension"),
    ("leg_raise", "reverse_leg_raise_on_swiss_ball"): (GL, HH, "prone hip extension"),
    ("leg_raise", "weighted_reverse_leg_raise_on_swiss_ball"): (GL, HH, "prone hip extension"),
    ("leg_curl", "split_stance_extension"): (HH, GL, "hip hinge (Garmin's leg-curl category)"),
    ("plyo", "cross_knee_strike"): (CO, "", "knee strike: trunk and hip flexors"),
    ("plyo", "weighted_cross_knee_strike"): (CO, "", "knee strike: trunk and hip flexors"),
    ("plyo", "front_knee_strike"): (CO, "", "knee strike: trunk and hip flexors"),
    ("plyo", "weighted_front_knee_strike"): (CO, "", "knee strike: trunk and hip flexors"),
    ("total_body", "standing_t_rotation_balance"): (HS, f"{CO};{HH}", "single-leg balance with rotation"),
    ("total_body", "weighted_standing_t_rotation_balance"): (HS, f"{CO};{HH}", "single-leg balance with rotation"),
    ("sandbag", "shoveling"): (CO, "", "trunk rotation"),
    ("sandbag", "around_the_world"): (CO, PU, "trunk, shoulders"),
    ("sandbag", "sprint"): (UNMAPPED, "", "sprint carrying a sandbag: conditioning, not a resistance set"),
    ("sandbag", "bear_crawl_pull_through"): (CO, "", "trunk"),
    ("sled", "backward_drag"): (Q, "", "knee extension walking backwards"),
    ("sled", "forward_drag"): (GL, f"{Q};{CA}", "hip extension walking forwards"),
    ("suspension", "hip_drop"): (CO, HS, "side plank hip drop"),
    ("suspension", "knee_drive_jump"): (Q, f"{GL};{CA}", "jumps"),
    ("suspension", "knee_to_chest"): (CO, "", "trunk"),
    ("suspension", "pendulum"): (CO, "", "trunk"),
    ("suspension", "power_pull"): (PL, CO, "single-arm row with rotation"),
    ("suspension", "y_fly"): (PL, "", "rear deltoid / scapular (pulling)"),
    ("suspension", "split"): (Q, GL, "split squat"),
    ("banded_exercises", "external_rotation_at_90_degree_abduction"): (PL, "", "rotator cuff (posterior shoulder)"),
    ("banded_exercises", "wall_crawl_with_external_rotation"): (PL, "", "rotator cuff (posterior shoulder)"),
    ("banded_exercises", "around_the_world_wheelchair"): (PU, "", "shoulders"),
    ("banded_exercises", "shoulder_abduction"): (PU, "", "deltoid raise (counted with pushing)"),
    ("banded_exercises", "shoulder_flexion_to_90_degrees"): (PU, "", "front raise (counted with pushing)"),
    ("banded_exercises", "shoulder_extension"): (PL, "", "shoulder extension (lats)"),
    ("banded_exercises", "high_plank_leg_lifts"): (CO, GL, "plank with leg lifts"),
    ("banded_exercises", "side_plank_leg_lifts"): (CO, HS, "side plank with leg lifts"),
    ("banded_exercises", "squat_to_press"): (Q, f"{GL};{PU}", "squat and press"),
    ("core", "double_leg_stretch"): (CO, "", "Pilates trunk exercise"),
    ("core", "weighted_double_leg_stretch"): (CO, "", "Pilates trunk exercise"),
    ("core", "single_leg_stretch"): (CO, "", "Pilates trunk exercise"),
    ("core", "single_leg_stretch_with_weights"): (CO, "", "Pilates trunk exercise"),
    ("crunch", "hip_crossover"): (CO, "", "trunk rotation"),
    ("crunch", "weighted_hip_crossover"): (CO, "", "trunk rotation"),
    ("curl", "hammer_curl_to_press"): (PL, PU, "curl then press"),
    ("shoulder_press", "dead_curl_press"): (PU, PL, "curl then press"),
    ("shoulder_press", "dumbbell_curl_to_overhead_press_wheelchair"): (PU, PL, "curl then press"),
    ("shoulder_press", "split_stance_hammer_curl_to_press"): (PU, PL, "curl then press"),
    ("shoulder_press", "dumbbell_hammer_curl_to_lunge_to_press"): (Q, f"{GL};{PU};{PL}", "curl, lunge and press"),
    ("squat", "squat_and_side_kick"): (Q, f"{GL};{HS}", "squat with a side kick (abductors)"),
    ("triceps_extension", "single_leg_bench_dip_and_kick"): (PU, "", "bench dip"),
    ("triceps_extension", "weighted_single_leg_bench_dip_and_kick"): (PU, "", "bench dip"),
    ("hip_stability", "external_hip_raise"): (HS, "", "hip abductors / rotators"),
    ("hip_stability", "weighted_external_hip_raise"): (HS, "", "hip abductors / rotators"),
    ("sandbag", "plank_pull_through"): (CO, "", "plank with a pull-through: trunk"),
    ("pull_up", "jumping_pull_ups"): (PL, "", "vertical pull"),
    ("pull_up", "weighted_jumping_pull_ups"): (PL, "", "vertical pull"),
    ("lunge", "low_lunge_with_isometric_adduction"): (Q, f"{GL};{HS}", "lunge with an adduction hold"),
    ("total_body", "squat_plank_push_up"): (Q, f"{GL};{PU};{CO}", "burpee-like"),
    ("total_body", "weighted_squat_plank_push_up"): (Q, f"{GL};{PU};{CO}", "burpee-like"),
    ("calf_raise", "single_leg_decline_push_up"): (PU, "", "a push-up filed under Garmin's calf-raise category"),
    ("calf_raise", "single_leg_hip_raise_with_knee_hold"): (GL, HH,
                                                            "a hip raise filed under Garmin's calf-raise category"),
    ("sled", "push"): (Q, f"{GL};{CA}", "sled push: knee-dominant"),
    ("sled", "low_push"): (Q, f"{GL};{CA}", "sled push: knee-dominant"),
}

# keyword rules, in order: (regular expression on the name, primary, secondaries, note); the first
# that matches wins. Tokens are the name's words: (?:^|_)word(?:_|$).
_W = r"(?:^|_)"
_E = r"(?:_|$)"
RULES: list[tuple[str, str, str, str]] = [
    # not resistance work, whatever the category
    (rf"stretch|{_W}arm_circles{_E}|arm_rotations|hug_a_tree|shaving_the_head|calorie_row|{_W}indoor_row{_E}"
     rf"|{_W}jumping_jacks?{_E}", UNMAPPED, "", "mobility, stretch or cardio movement: not a resistance set"),
    # trunk: planks of any kind (with a row, a kick or a jump too)
    (r"plank", CO, "", "trunk (anti-extension / anti-rotation)"),
    # knee flexion: leg curls, Nordic curls, hamstring curls (a hip raise with a leg curl too)
    (r"hip_raise_and_leg_curl", HK, GL, "knee flexion from a hip raise"),
    (rf"nordic|leg_curl|hamstring_curls?{_E}", HK, "", "knee flexion"),
    # hip hinge
    (r"good_morning", HH, GL, "hip hinge"),
    (r"sumo_deadlift", HH, f"{GL};{Q};{HS}", "hip hinge, wide stance (quadriceps and adductors)"),
    (r"single_leg.*(deadlift|rdl)|one_leg_deadlift|single_leg_rdl|(^|_)single_leg_deadlift", HH, f"{GL};{HS}",
     "single-leg hip hinge (with hip stability)"),
    (r"romanian|(^|_)rdl(_|$)|straight_leg_deadlift|stiff_leg", HH, GL, "hip hinge, knees nearly straight"),
    (r"trap_bar_deadlift|(^|_)(barbell|wide_grip_barbell|dumbbell|kettlebell|single_arm)_deadlift$|^deadlift$"
     r"|rack_pull|medicine_ball_deadlift", HH, f"{GL};{Q}", "deadlift from the floor: hip hinge with the knees"),
    (r"pull_through|back_extension|hyperextension|single_leg_back_extension", HH, f"{GL};{CO}",
     "back extension / pull-through: hip hinge with the spinal erectors"),
    (r"swing|(^|_)kbs(_|$)", HH, GL, "kettlebell swing: hip hinge"),
    # Olympic lifts: triple extension
    (r"sumo_squat_to_high_pull", Q, f"{GL};{PL}", "squat then high pull"),
    (r"(^|_)(jerk|push_jerk|split_jerk)(_|$)|clean_and_(jerk|press|push_press|strict_press)", GL, f"{Q};{HH};{PU}",
     "clean / snatch with an overhead press or jerk"),
    (r"clean|snatch|high_pull|hang_pull|jump_shrug", GL, f"{Q};{HH}",
     "triple extension (hips, knees, ankles): rough mapping"),
    # glutes: bridges, hip thrusts, hip extension
    (r"hip_thrust|hip_raise|bridge|hip_extension|donkey_kick|rear_leg_raise|rear_leg_extension|front_kick_tabletop"
     r"|glute", GL, HH, "hip extension: bridge / hip thrust / kickback"),
    # hip stability: adductors and abductors
    (r"adduct|abduct|copenhagen|clam|fire_hydrant|lateral_(band_)?walks?|monster_walk|inner_thigh|side_lying_leg"
     r"|hip_circles|hip_internal_rotation|side_step|pretzel|side_kick", HS, "", "hip adductors / abductors / rotators"),
    # calves
    (r"calf_raise|toe_raise|releve", CA, "", "plantar flexion"),
    # knee-dominant: squats, lunges, split squats, step-ups, leg press, jumps
    (r"leg_press|hack_squat", Q, GL, "knee-dominant (machine / hack)"),
    (r"thruster|wall_ball|squat_to_press|squat_and_press|front_squat_to_push_press", Q, f"{GL};{PU}",
     "squat then overhead press"),
    (r"sumo|plie|wide_stance.*squat", Q, f"{GL};{HS}", "wide-stance squat (adductors)"),
    (r"side_lunge|lateral_lunge|curtsy|crossover_lunge|lateral.*step_up|lateral_plyo|lateral_leap|lateral_slide"
     r"|side_to_side_shuffle|low_side_to_side|isometric_adduction", Q, f"{GL};{HS}",
     "lateral / crossover single-leg work (adductors, abductors)"),
    (r"squat_chop|squat_with_rotational_chop", Q, CO, "squat with a trunk chop"),
    (r"throw|slam", CO, PU, "medicine ball throw: trunk and shoulders"),
    (r"jump(?!_shrug)|(^|_)hop|depth_jump|plyo|split_jump", Q, f"{GL};{CA}", "jumps: knee-dominant"),
    (r"lunge|split_squat|step_?up|stepover|pistol|single_leg_squat|one_legged_squat|single_leg_bench",
     Q, GL, "knee-dominant, single leg"),
    (r"squat", Q, GL, "knee-dominant"),
    (r"curl_up|roll_up|leg_raises?|knee_raises?", CO, "", "trunk flexion / hip flexors"),
    # pulling
    (r"muscle_up", PL, PU, "pull-up then dip"),
    (r"pull_?ups?|chin_up|pulldown|pull_down|latpull|lat_pull|pullover|face_pull|(^|_)rows?(_|$)|_row$|inverted_row"
     r"|rear_.*(raise|fly|flye|delt)|reverse_flye|rear_flye|pull_apart|upright_row|shrug|external_rotation"
     r"|internal_rotation|scapular|(^|_)[iytwl]_raise|wall_slide|hurdle", PL, "",
     "pulling muscles (back, rear shoulder)"),
    (r"biceps?_curl|hammer_curl|(^|_)curls?(_|$)|preacher|zottman|concentration|wrist_curl", PL, "",
     "elbow flexors (pulling muscles)"),
    # pushing
    (r"push_?ups?|pushup|dip|bench_press|chest_press|floor_press|shoulder_press|overhead_press|push_press|arnold"
     r"|military|strict_press|smith_machine_overhead|triceps?_|pressdown|kickback|chest_fly|(^|_)fly(_|$)|flye"
     r"|crossover|lateral_raise|front_raise|side_raise|_raises?$|scaption|partial_lockout|inverted_shoulder_press"
     r"|overhead_.*press|(^|_)push(_|$)|chest_pass", PU, "", "pushing muscles (chest, shoulders, triceps)"),
    # trunk
    (r"plank|crunch|sit_?ups?|situp|v_up|twist|rollout|ab_wheel|leg_raise|knee_raise|toes_to|l_sit|hollow|dead_?bug"
     r"|jackknife|pike|mountain_climber|superman|side_bend|windmill|get_up|flutter|bicycle|hundred|teaser|roll_up"
     r"|chop|carry|farmers|plate_pinch|bear_crawl|bear_hug|spine_extension|(^|_)kicks(_|$)|slide_out|reclining"
     r"|leg_lowering|leg_drops|x_abs|curl_up|crescent|knee_tucks|knee_folds|jabs|plate_reach|swimming|scissors"
     r"|corkscrew|roll_over|rolling|swan|neck_pull|lower_lift|pelvic_clocks|cat_cow|u_boat|rowing_[12]|criss_cross"
     r"|circles|snake|inchworm|front_lever|elevator|shouldering", CO, "", "trunk"),
]
_COMPILED = [(re.compile(p), prim, sec, note) for p, prim, sec, note in RULES]


def mapping(category: str, name: str) -> tuple[str, str, str]:
    """(primary, secondaries, note) of one exercise name of a category."""
    if category in NOT_RESISTANCE:
        return UNMAPPED, "", NOT_RESISTANCE[category]
    if (category, name) in OVERRIDES:
        return OVERRIDES[(category, name)]
    for rx, prim, sec, note in _COMPILED:
        if rx.search(name):
            return prim, sec, note
    return CATEGORIES[category]


def rows() -> list[list[str]]:
    types = Profile["types"]
    out = []
    for category in sorted(set(types["exercise_category"].values())):
        if category in NOT_RESISTANCE:
            prim, sec, note = UNMAPPED, "", NOT_RESISTANCE[category]
        else:
            prim, sec, note = CATEGORIES[category]
        out.append([category, "", prim, sec, f"category default: {note}"])
        names = sorted(set(types.get(f"{category}_exercise_name", {}).values()))
        out += [[category, name, *mapping(category, name)] for name in names]
    return out


def main() -> None:
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(["exercise_category", "exercise_name", "primary_muscle", "secondary_muscles", "note"])
    w.writerows(rows())


if __name__ == "__main__":
    main()
