/*
 * stop_cues.h - the cue lists of intent.c, compiled in from
 * stop_cues.txt (Makefile.am generates stop_cues.c): one line of the
 * list per string, NULL last.
 */
#ifndef CANDOR_TRACK_STOP_CUES_H
#define CANDOR_TRACK_STOP_CUES_H

extern const char *const cd_stop_cues[];

#endif
